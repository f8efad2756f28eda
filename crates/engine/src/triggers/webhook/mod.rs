//! Webhook and hybrid trigger modes: the split of a trigger's filter into what Jira's webhook
//! `jqlFilter` accepts and the rest ([`filter`]), delivery verification ([`verify`]), dynamic
//! webhook registration, refresh and removal ([`register`]), and the receiver that turns
//! deliveries into runs through the same events and dedupe keys as polling ([`receive`]).
//! The HTTP server is not here: it hands each POST to [`WebhookReceiver::accept`] and answers
//! with [`DeliveryError::http_status`].

pub mod filter;
pub mod receive;
pub mod register;
pub mod verify;

pub use filter::{FilterError, WebhookFilter, split_filter, split_trigger};
pub use receive::{Accepted, ReceiverConfig, ReceiverStats, WebhookReceiver};
pub use register::{Ensured, RefreshReport, RegisterReason, RegistrarError, WebhookRegistrar};
pub use verify::{DeliveryError, VerifiedDelivery, verify_delivery};
