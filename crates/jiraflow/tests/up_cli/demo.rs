//! `jiraflow demo`: acts in the sandbox as Bob and reports the demo flows firing.

use crate::support::{DataDir, command};

#[test]
fn demo_exits_zero_with_a_summary_where_every_flow_fired() {
    let data = DataDir::new("demo");
    let output = command(
        &data.0,
        &[
            "demo",
            "--sandbox-listen",
            "127.0.0.1:0",
            "--timeout-secs",
            "90",
        ],
    )
    .output()
    .expect("run demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("FIRST STEP AFTER"), "{stdout}");
    for flow in [
        "demo-welcome-new-issues",
        "demo-escalate-urgent-comments",
        "demo-label-bugs",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(flow))
            .unwrap_or_else(|| panic!("no summary line for {flow}:\n{stdout}"));
        let columns: Vec<&str> = line.split_whitespace().collect();
        let succeeded: u32 = columns[2].parse().expect("succeeded column");
        assert!(succeeded > 0, "{flow} did not fire:\n{stdout}");
        assert_eq!(columns[3], "0", "{flow} had failed runs:\n{stdout}");
    }
    assert!(stdout.contains("priority is now Highest"), "{stdout}");
}
