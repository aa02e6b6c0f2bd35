//! leadx: a lead-exchange server and the terminal inbox that talks to it.
//!
//! - [`wire`]: the types of PROTOCOL.md, shared by server and client;
//! - [`domain`]: the exchange's rules (who may do what, masking), pure;
//! - [`store`]: durable state behind one narrow trait (SQLite today);
//! - [`server`]: HTTP routes, auth, idempotency, the event hub and feed;
//! - [`client`]: HTTP client, live feed and retries, for inbox and CLI;
//! - [`inbox`]: the terminal app (state, keymap, views, theme);
//! - [`money`]: the one parser of typed amounts (inbox and CLI);
//! - [`demo`]: the demo world and its simulator;
//! - [`cli`]: the command line, the only place that wires server and inbox.

pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod export;
pub mod inbox;
pub mod keyspec;
pub mod money;
pub mod query;
pub mod sanitize;
pub mod server;
pub mod store;
pub mod suggest;
pub mod theme;
pub mod wire;
