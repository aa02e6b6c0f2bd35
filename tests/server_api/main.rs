//! Every endpoint's happy path and every rule and error code of
//! PROTOCOL.md, over real HTTP against a real server and store (a lead's
//! own rules, one accepted hop and duplicate domains, in server_lead_rules.rs).

#[path = "../common/mod.rs"]
mod common;

use common::{World, id, lead_body, version};
use serde_json::{Value, json};

mod actions;
mod create_and_read;
mod identity_and_health;
