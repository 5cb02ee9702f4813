//! The web crate's integration tests, in one binary: each module spawns the
//! real application (see `common`) over fresh SQLite and PostgreSQL
//! databases. One binary links the application once instead of once per
//! file. `logs.rs` (it installs the process's log subscriber) and
//! `slow_clients.rs` (it sizes its own runtime's blocking pool and times
//! it) keep binaries of their own.
mod common;

mod access;
mod accounts;
mod api;
mod attacks;
mod catalog_executed;
mod claim_packs;
mod claims;
mod claims_desk;
mod claims_guest;
mod code_guessing;
mod consents;
mod cookies;
mod couriers;
mod couriers_burst;
mod couriers_pages;
mod cross_site;
mod durations;
mod exports;
mod fraud;
mod jobs;
mod limits;
mod marketing;
mod outboxes;
mod pages;
mod payments;
mod payments_data;
mod payments_pages;
mod policies;
mod privacy_form;
mod proofs;
mod rate_limits;
mod refunds;
mod requests;
mod retention;
mod seed;
mod station;
mod uploads;
