//! The delivery side of dynamic webhooks: a background task picks queued deliveries out of the
//! world and sends each one in its own task, retrying with exponential backoff.
//!
//! Each POST carries `Authorization: Bearer <JWT>` (HS256, keyed with the app's client secret),
//! `X-Atlassian-Webhook-Identifier` (the same on every attempt), `X-Atlassian-Webhook-Flow:
//! Primary`, and from the first retry on `X-Atlassian-Webhook-Retry: <n>`. Retries follow on
//! 408, 409, 425, 429, 5xx, timeouts and connection failures, up to
//! `settings.webhook_max_attempts` attempts; other answers end the delivery.
//!
//! JWT claims (Atlassian does not document them for OAuth 2.0 apps; receivers should check only
//! the signature, `alg` and `exp`): `iss` = `jira:{cloudId}`, `aud` = the app's client id, `sub`
//! = the account that registered the webhook, `iat`, `exp` = `iat` + 180 s (simulated clock), and
//! `qsh` = SHA-256 of `POST&{path}&{query}` of the receiver URL, as Atlassian's JWTs carry.
//!
//! Sleeps use host (tokio) time so a skewed or jumped simulated clock neither stalls nor floods
//! the sender; timestamps and JWT times use the simulated clock.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::state::{Counters, SimState};
use crate::world::WebhookDelivery;

/// How long a webhook JWT is valid, in seconds.
pub const JWT_TTL_SECS: i64 = 180;

/// How often the sender looks at the queue even without a wake-up.
const POLL: Duration = Duration::from_secs(1);

/// Starts the task that drains the world's delivery queue.
pub fn spawn(state: &SimState) {
    let state = state.clone();
    let tasks = state.tasks.clone();
    tasks.spawn(async move {
        let client = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(client) => client,
            Err(err) => {
                tracing::error!(%err, "cannot build the webhook client");
                return;
            }
        };
        loop {
            tokio::select! {
                () = state.shutdown.cancelled() => break,
                () = state.webhook_wakeup.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
            let batch: Vec<WebhookDelivery> = state.world.write().webhook_queue.drain(..).collect();
            for delivery in batch {
                let (state, client) = (state.clone(), client.clone());
                state
                    .tasks
                    .clone()
                    .spawn(async move { deliver(state, client, delivery).await });
            }
        }
    });
}

/// What one attempt came to.
enum Outcome {
    Delivered,
    Retry,
    Rejected,
}

fn retryable(status: reqwest::StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 409 | 425 | 429) || status.is_server_error()
}

/// Sends `delivery` until it is acknowledged, rejected, out of attempts, or the simulator stops.
async fn deliver(state: SimState, client: reqwest::Client, mut delivery: WebhookDelivery) {
    loop {
        let settings = state.settings();
        delivery.attempts += 1;
        Counters::bump(&state.counters.webhook_attempts);
        let outcome = tokio::select! {
            () = state.shutdown.cancelled() => return,
            outcome = attempt(&state, &client, &delivery, settings.webhook_timeout_ms) => outcome,
        };
        match outcome {
            Outcome::Delivered => {
                Counters::bump(&state.counters.webhook_delivered);
                return;
            }
            Outcome::Rejected => {
                Counters::bump(&state.counters.webhook_abandoned);
                return;
            }
            Outcome::Retry if delivery.attempts >= settings.webhook_max_attempts.max(1) => {
                Counters::bump(&state.counters.webhook_abandoned);
                tracing::debug!(id = %delivery.identifier, "webhook delivery abandoned");
                return;
            }
            Outcome::Retry => {}
        }
        let exponent = (delivery.attempts - 1).min(16);
        let wait = settings.webhook_retry_base_ms.saturating_mul(1 << exponent);
        delivery.next_attempt_at = state.clock.now_ms() + i64::try_from(wait).unwrap_or(i64::MAX);
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_millis(wait)) => {}
        }
    }
}

async fn attempt(
    state: &SimState,
    client: &reqwest::Client,
    delivery: &WebhookDelivery,
    timeout_ms: u64,
) -> Outcome {
    let secret = state
        .world
        .read()
        .apps
        .get(&delivery.client_id)
        .map(|a| a.client_secret.clone());
    // The app was deleted: nobody can verify a delivery any more.
    let Some(secret) = secret else {
        return Outcome::Rejected;
    };
    let now_secs = state.clock.now_ms() / 1000;
    let token = jwt(&secret, delivery, now_secs);
    let mut request = client
        .post(&delivery.url)
        .timeout(Duration::from_millis(timeout_ms.max(1)))
        .bearer_auth(token)
        .header("X-Atlassian-Webhook-Identifier", &delivery.identifier)
        .header("X-Atlassian-Webhook-Flow", "Primary")
        .json(&delivery.body);
    if delivery.attempts > 1 {
        request = request.header(
            "X-Atlassian-Webhook-Retry",
            (delivery.attempts - 1).to_string(),
        );
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => Outcome::Delivered,
        Ok(response) if retryable(response.status()) => Outcome::Retry,
        Ok(_) => Outcome::Rejected,
        Err(_) => Outcome::Retry,
    }
}

/// The query-string hash Atlassian JWTs carry: SHA-256 of `METHOD&path&sorted-query`.
fn qsh(url: &str) -> String {
    let (path, query) = match url::Url::parse(url) {
        Ok(u) => {
            let mut pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            pairs.sort();
            let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            (u.path().to_owned(), query.join("&"))
        }
        Err(_) => ("/".to_owned(), String::new()),
    };
    let digest = Sha256::digest(format!("POST&{path}&{query}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// An HS256 JWT for `delivery`, signed with `secret`.
pub fn jwt(secret: &str, delivery: &WebhookDelivery, now_secs: i64) -> String {
    let header = json!({ "alg": "HS256", "typ": "JWT" });
    let claims = json!({
        "iss": format!("jira:{}", delivery.cloud_id),
        "aud": delivery.client_id,
        "sub": delivery.registered_by,
        "iat": now_secs,
        "exp": now_secs + JWT_TTL_SECS,
        "qsh": qsh(&delivery.url),
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map(|mut mac| {
            mac.update(signing_input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        })
        .unwrap_or_default();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwt_is_hs256_over_header_and_claims() {
        let delivery = WebhookDelivery {
            identifier: "id".to_owned(),
            url: "http://127.0.0.1:9/hook?b=2&a=1".to_owned(),
            client_id: "client".to_owned(),
            cloud_id: "cloud".to_owned(),
            registered_by: "acct".to_owned(),
            body: json!({}),
            attempts: 0,
            next_attempt_at: 0,
        };
        let token = jwt("secret", &delivery, 1_000);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").expect("key");
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).expect("base64");
        assert!(mac.verify_slice(&sig).is_ok());
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64"))
                .expect("json");
        assert_eq!(claims["iss"], "jira:cloud");
        assert_eq!(claims["exp"], 1_180);
        assert_eq!(claims["qsh"].as_str().map(str::len), Some(64));
    }
}
