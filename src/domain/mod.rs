//! The exchange's rules, pure: who may see and do what, masking, and the
//! validation of what people send. The store applies them inside its
//! transactions; nothing here touches a disk or a socket.

pub mod may;
pub mod rules;
pub mod types;
pub mod validate;
pub mod visibility;

pub use types::{
    Action, ActionItem, Actor, Applied, DomainError, ItemResult, OpenHop, StoredReferral,
};
