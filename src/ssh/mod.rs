//! The SSH front end: `ssh -p 2222 leads.example.net` opens a partner
//! user's inbox (see docs/ARCHITECTURE.md, "The SSH front end").

pub mod keys;
