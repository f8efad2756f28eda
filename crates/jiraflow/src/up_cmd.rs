//! `jiraflow up`: the long-running instance. Opens the data directory's store, serves the HTTP
//! server (API, OAuth callback, webhook receiver, health, metrics), runs the executor's workers,
//! the trigger scheduler and the hourly file sweeper, and, when no production connection exists
//! (or with `--sandbox`), the embedded sandbox ([`crate::sandbox`]). Ctrl-C or SIGTERM stops
//! accepting work, lets the steps and requests in flight finish, and exits 0.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use jiraflow_engine::connections::{ClientSource, StoreClients};
use jiraflow_engine::executor::{Executor, ExecutorConfig};
use jiraflow_engine::triggers::TriggerSettings;
use jiraflow_engine::triggers::scheduler::{Scheduler, SchedulerSettings};
use jiraflow_engine::triggers::webhook::{ReceiverConfig, WebhookReceiver};
use jiraflow_files::{Files, FilesConfig, LocalFileStore};
use jiraflow_oauth::{OAuthClient, TokenManager, TokenManagerConfig};
use jiraflow_server::{AppState, MeteredClients, ServerWebhooks, Services};
use jiraflow_store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::data_dir::{CommonArgs, Context};
use crate::sandbox::{self, Sandbox};

/// How often the file sweeper removes expired file objects.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// Where Jira's webhook deliveries arrive.
const WEBHOOK_PATH: &str = "/webhooks/jira";
/// How long an idle worker sleeps before looking for runs again.
const WORKER_IDLE: Duration = Duration::from_millis(250);

/// Options of `jiraflow up`.
#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Address of the HTTP server; its `/oauth/callback` is the OAuth redirect URI.
    #[arg(long, default_value = "127.0.0.1:8080", env = "JIRAFLOW_LISTEN")]
    pub listen: SocketAddr,
    /// Executor workers (runs executed at once).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Start the sandbox even though production connections exist.
    #[arg(long, conflicts_with = "no_sandbox")]
    pub sandbox: bool,
    /// Never start the sandbox.
    #[arg(long)]
    pub no_sandbox: bool,
    /// Address of the sandbox simulator on its first start (later starts reuse the saved one).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub sandbox_listen: SocketAddr,
    /// Stop after this many seconds (as if interrupted).
    #[arg(long, value_name = "SECS")]
    pub exit_after: Option<u64>,
    /// Start, set up, print the URLs and stop at once.
    #[arg(long, conflicts_with = "exit_after")]
    pub once: bool,
}

/// A running instance: everything `up` and `demo` start.
pub struct Instance {
    /// The store context.
    pub ctx: Context,
    /// The server's state.
    pub state: AppState,
    /// The server's base URL.
    pub base_url: String,
    /// The sandbox, when started.
    pub sandbox: Option<Sandbox>,
    cancel: CancellationToken,
    tasks: TaskTracker,
}

impl Instance {
    /// Starts the server, the workers, the scheduler, the sweeper and (if wanted) the sandbox.
    pub async fn start(args: &UpArgs) -> anyhow::Result<Self> {
        let ctx = Context::open(&args.common).await?;
        match start_on(ctx, args).await {
            Ok(instance) => Ok(instance),
            Err((ctx, e)) => {
                ctx.close().await;
                Err(e)
            }
        }
    }

    /// Stops: cancels everything, waits for in-flight steps and requests, stops the sandbox and
    /// closes the store.
    pub async fn stop(self) {
        self.cancel.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        if let Some(sandbox) = self.sandbox {
            sandbox.sim.shutdown().await;
        }
        self.ctx.close().await;
    }
}

async fn start_on(ctx: Context, args: &UpArgs) -> Result<Instance, (Context, anyhow::Error)> {
    let cancel = CancellationToken::new();
    let tasks = TaskTracker::new();
    let started = build(&ctx, args, &cancel, &tasks).await;
    match started {
        Ok((state, base_url, sandbox)) => Ok(Instance {
            ctx,
            state,
            base_url,
            sandbox,
            cancel,
            tasks,
        }),
        Err(e) => {
            cancel.cancel();
            tasks.close();
            tasks.wait().await;
            Err((ctx, e))
        }
    }
}

async fn build(
    ctx: &Context,
    args: &UpArgs,
    cancel: &CancellationToken,
    tasks: &TaskTracker,
) -> anyhow::Result<(AppState, String, Option<Sandbox>)> {
    let store = ctx.store.clone();
    let oauth = OAuthClient::new()?;
    let tokens = Arc::new(TokenManager::new(
        store.clone(),
        oauth.clone(),
        TokenManagerConfig::default(),
    ));
    let clients = Arc::new(MeteredClients::new(Arc::new(StoreClients::new(
        store.clone(),
        tokens.clone(),
    ))));
    let files = open_files(store.clone(), &args.common.data_dir).await?;
    let listener = TcpListener::bind(args.listen).await.with_context(|| {
        format!(
            "cannot listen on {}; free the port or pass --listen",
            args.listen
        )
    })?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    let redirect_uri = format!("{base_url}/oauth/callback");
    let workers: Vec<Arc<Executor>> = (0..args.workers.max(1))
        .map(|_| {
            Arc::new(
                Executor::new(
                    store.clone(),
                    clients.clone() as Arc<dyn ClientSource>,
                    ExecutorConfig::default(),
                )
                .with_files(files.clone()),
            )
        })
        .collect();
    let receiver = Arc::new(WebhookReceiver::new(
        store.clone(),
        clients.clone() as Arc<dyn ClientSource>,
        TriggerSettings::default(),
        ReceiverConfig {
            receiver_path: Some(WEBHOOK_PATH.to_owned()),
            ..ReceiverConfig::default()
        },
    ));
    let scheduler = Scheduler::new(
        store.clone(),
        clients.clone() as Arc<dyn ClientSource>,
        SchedulerSettings::default(),
    )
    .with_webhooks(Arc::new(ServerWebhooks::new(
        store.clone(),
        clients.clone() as Arc<dyn ClientSource>,
        format!("{base_url}{WEBHOOK_PATH}"),
    )));
    let state = AppState::with_webhooks(
        Services {
            store: store.clone(),
            executor: workers[0].clone(),
            files: files.clone(),
            clients: clients.clone(),
            tokens,
            oauth,
            redirect_uri: redirect_uri.clone(),
            scheduler: Some(scheduler.handle()),
        },
        receiver.clone(),
    );
    let router = jiraflow_server::router(state.clone());
    let server_cancel = cancel.clone();
    tasks.spawn(async move {
        if let Err(e) = jiraflow_server::serve(listener, router, server_cancel).await {
            tracing::error!(error = %e, "the HTTP server stopped");
        }
    });

    let sandbox = if wants_sandbox(store.as_ref(), args).await? {
        Some(
            sandbox::start(
                &state,
                &args.common.data_dir,
                args.sandbox_listen,
                &redirect_uri,
            )
            .await?,
        )
    } else {
        None
    };

    receiver.spawn(tasks, cancel.clone());
    for worker in workers {
        let cancel = cancel.clone();
        tasks.spawn(async move { worker.work(cancel, WORKER_IDLE).await });
    }
    tasks.spawn(scheduler.run(cancel.clone()));
    let sweep_cancel = cancel.clone();
    tasks.spawn(async move { sweep(files, sweep_cancel).await });
    Ok((state, base_url, sandbox))
}

/// The sandbox runs with `--sandbox`, or when no connection but the sandbox's exists.
async fn wants_sandbox(store: &dyn Store, args: &UpArgs) -> anyhow::Result<bool> {
    if args.no_sandbox {
        return Ok(false);
    }
    if args.sandbox {
        return Ok(true);
    }
    let others = store
        .list_connections()
        .await?
        .into_iter()
        .filter(|c| !c.name.eq_ignore_ascii_case(sandbox::CONNECTION_NAME))
        .count();
    Ok(others == 0)
}

async fn open_files(store: Arc<dyn Store>, data_dir: &Path) -> anyhow::Result<Arc<Files>> {
    let content = LocalFileStore::open(data_dir)
        .await
        .with_context(|| format!("opening the file store in {}", data_dir.display()))?;
    Ok(Arc::new(Files::new(
        store,
        Arc::new(content),
        FilesConfig::default(),
    )?))
}

/// Removes expired file objects every hour (and once at start).
async fn sweep(files: Arc<Files>, cancel: CancellationToken) {
    loop {
        match files.sweep(chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "expired file objects swept"),
            Err(e) => tracing::warn!(error = %e, "sweeping expired file objects failed"),
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(SWEEP_EVERY) => {}
        }
    }
}

/// Runs `jiraflow up`.
pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let instance = Instance::start(&args).await?;
    print_banner(&instance, &args.common.data_dir);
    if !args.once {
        match args.exit_after {
            Some(secs) => {
                tokio::select! {
                    () = shutdown_signal() => {}
                    () = tokio::time::sleep(Duration::from_secs(secs)) => {}
                }
            }
            None => shutdown_signal().await,
        }
    }
    eprintln!("stopping: finishing the steps and requests in flight");
    instance.stop().await;
    eprintln!("stopped");
    Ok(())
}

fn print_banner(instance: &Instance, data_dir: &Path) {
    let base = &instance.base_url;
    println!("jiraflow is up (data directory {})", display(data_dir));
    println!("  API:            {base}/api/v1");
    println!("  health:         {base}/healthz");
    println!("  metrics:        {base}/metrics");
    println!("  OAuth callback: {base}/oauth/callback");
    println!("  webhooks:       {base}/webhooks/jira");
    if let Some(sandbox) = &instance.sandbox {
        let sim = &sandbox.sim.info;
        println!("  simulator:      {}", sim.auth_url);
        println!("  simulator site: {}", sim.site_url);
        println!("  simulator admin API: {}", sim.sim_admin_url);
        println!(
            "  connection:     {} ({})",
            sandbox.connection.name,
            if sandbox.connected_now {
                "connected now through OAuth"
            } else {
                "reused"
            }
        );
        for (flow, result) in &sandbox.flows {
            println!("  flow:           {flow} ({result})");
        }
        match &sandbox.new_api_key {
            Some(key) => {
                println!("  API key:        {key}");
                println!(
                    "                  (user {:?}; shown once, keep it: \
                     Authorization: Bearer <key>)",
                    sandbox.admin.name
                );
            }
            None => println!(
                "  API key:        shown on the first start; make another with \
                 `jiraflow apikey create {}`",
                sandbox.admin.name
            ),
        }
    }
    println!("Press Ctrl-C to stop.");
}

fn display(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| PathBuf::from(path))
        .display()
        .to_string()
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
