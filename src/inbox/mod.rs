//! The terminal inbox: model, reducer, keymap, views and runtime.
//!
//! - [`command`] / [`keymap`]: the one table of bindable commands and the keys;
//! - [`state`], [`msg`], [`update`]: the model and its pure reducer, one
//!   module per feature under `update/` (marks, batch, palette, …);
//! - [`views`]: drawing, read-only over the state;
//! - [`app`]: the runtime (terminal, network tasks, timer).

pub mod app;
pub mod command;
pub mod format;
pub mod keymap;
pub mod layout;
pub mod msg;
pub mod pace;
pub mod private_file;
pub mod runtime;
pub mod scroll_backend;
pub mod state;
pub mod suspend;
pub mod update;
pub mod views;

#[cfg(test)]
mod scroll_backend_tests;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod view_tests;
