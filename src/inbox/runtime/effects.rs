//! The effects the reducer asks for, performed: HTTP through `client`
//! (loads, actions, batches retried with the same idempotency key until
//! the answer is definite), the live feed, files (`:export`, history),
//! themes. Each answers with `Msg`s on the loop's channel. Shared by
//! every front end (the local terminal, an SSH channel).

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::client::{
    Backoff, Client, ClientError, FeedEvent, FeedOptions, LIST_ALL_PAGE, retry_until_definite,
    watch,
};
use crate::config::Settings;
use crate::inbox::msg::{ActionOutcome, Effect, ExportFormat, FeedMsg, LeadRefusal, Msg, OpId};
use crate::theme::{self, Theme};
use crate::wire::BatchAction as ActionRequest;
use crate::wire::{CreateReferral, ErrorCode, Referral, now_seconds};

/// The effect runner: spawns tasks that answer with `Msg`s.
pub(crate) struct Runner {
    pub(crate) client: Client,
    pub(crate) tx: UnboundedSender<Msg>,
    /// Where `:` history is appended.
    pub(crate) history: Option<PathBuf>,
    /// For `:theme`: where user themes live, and the colour depth.
    pub(crate) theme_dir: Option<PathBuf>,
    pub(crate) depth: theme::ColorDepth,
    /// A theme `:theme` loaded, for the loop to switch to.
    pub(crate) new_theme: Option<Theme>,
    /// Bytes for the terminal itself (OSC 52), written by the loop through
    /// its front end before the next frame.
    pub(crate) raw_out: Vec<u8>,
    pub(crate) feed: Option<JoinHandle<()>>,
    pub(crate) tasks: Vec<JoinHandle<()>>,
}

impl Runner {
    pub(crate) fn backoff() -> Backoff {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(30))
    }

    /// Runs one effect; returns true for `Quit`.
    pub(crate) fn run(&mut self, effect: Effect) -> bool {
        self.tasks.retain(|t| !t.is_finished());
        match effect {
            Effect::Quit => return true,
            // The local terminal's hooks; where none was started (a
            // session on an SSH channel) they answer "not available".
            Effect::Terminal(t) => crate::inbox::suspend::perform(t, &self.tx),
            Effect::LoadMe => {
                let (client, tx) = (self.client.clone(), self.tx.clone());
                self.spawn(async move {
                    let r = load("your account", &tx, || client.me()).await;
                    let _ = tx.send(Msg::Me(r.map_err(|e| e.to_string())));
                });
            }
            Effect::LoadPartners => {
                let (client, tx) = (self.client.clone(), self.tx.clone());
                self.spawn(async move {
                    let r = load("the partner directory", &tx, || client.partners(None)).await;
                    let _ = tx.send(Msg::Partners(r.map_err(|e| e.to_string())));
                });
            }
            Effect::List(box_) => {
                let (client, tx) = (self.client.clone(), self.tx.clone());
                self.spawn(async move {
                    let what = format!("{} referrals", box_.as_str());
                    // Page by page: the model takes each as it comes, so the
                    // raw list never exists whole next to the model's copy.
                    let r = load(&what, &tx, || {
                        let tx = tx.clone();
                        client.list_all_each(box_, &[], LIST_ALL_PAGE, move |items| {
                            let _ = tx.send(Msg::ListPage { box_, items });
                        })
                    })
                    .await;
                    let _ = tx.send(Msg::Listed {
                        box_,
                        result: r
                            .map(|as_of| (Vec::new(), as_of))
                            .map_err(|e| e.to_string()),
                    });
                });
            }
            Effect::Watch { after } => {
                if let Some(old) = self.feed.take() {
                    old.abort();
                }
                let (client, tx) = (self.client.clone(), self.tx.clone());
                tracing::info!(after, "watching the feed");
                self.feed = Some(tokio::spawn(relay_feed(client, after, tx)));
            }
            Effect::SendBatch {
                batch,
                chunk,
                request,
                idempotency_key,
            } => {
                let (client, tx) = (self.client.clone(), self.tx.clone());
                tracing::info!(batch, chunk, items = request.items.len(), key = %idempotency_key, "sending batch chunk");
                self.spawn(async move {
                    let result = retry_until_definite(
                        Runner::backoff(),
                        || client.batch(&request, &idempotency_key),
                        |n, e, wait| {
                            tracing::warn!(batch, chunk, attempt = n, error = %e, ?wait, "batch chunk not answered, retrying with the same key");
                            let _ = tx.send(Msg::BatchRetrying {
                                batch,
                                chunk,
                                error: e.to_string(),
                            });
                        },
                    )
                    .await;
                    let _ = tx.send(Msg::BatchDone {
                        batch,
                        chunk,
                        result: result.map_err(|e| e.to_string()),
                        at: now_seconds(),
                    });
                });
            }
            Effect::Export {
                path,
                format,
                referrals,
            } => {
                let tx = self.tx.clone();
                self.spawn(async move {
                    let p = path.clone();
                    let r = tokio::task::spawn_blocking(move || export(&p, format, &referrals))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r);
                    let _ = tx.send(Msg::Exported(r.map(|n| (path, n))));
                });
            }
            Effect::SaveHistory(line) => {
                if let Some(p) = &self.history
                    && let Err(e) = append_history(p, &line)
                {
                    tracing::warn!(error = %e, path = %p.display(), "cannot save the command history");
                }
            }
            Effect::Copy(text) => {
                let seq = crate::inbox::update::yank::osc52(&text);
                self.raw_out.extend_from_slice(seq.as_bytes());
            }
            Effect::SetTheme(name) => {
                let r = theme::load(&name, self.theme_dir.as_deref(), self.depth);
                let msg = match r {
                    Ok(t) => {
                        self.new_theme = Some(t);
                        Ok(name)
                    }
                    Err(e) => Err(e),
                };
                let _ = self.tx.send(Msg::ThemeChanged(msg));
            }
            Effect::Send {
                op,
                referral_id,
                request,
                idempotency_key,
            } => {
                let (client, tx) = (self.client.clone(), self.tx.clone());
                tracing::info!(op, id = %referral_id, action = request.kind().as_str(), "sending");
                self.spawn(async move {
                    let outcome =
                        send_action(&client, &tx, op, &referral_id, &request, &idempotency_key)
                            .await;
                    let _ = tx.send(Msg::ActionDone {
                        op,
                        outcome,
                        at: now_seconds(),
                    });
                });
            }
            Effect::SendLead {
                request,
                idempotency_key,
            } => {
                let (client, tx) = (self.client.clone(), self.tx.clone());
                tracing::info!(to = %request.to_partner, "sending a new lead");
                self.spawn(async move {
                    let result = send_lead(&client, &request, &idempotency_key).await;
                    let _ = tx.send(Msg::LeadSent(result.map(Box::new)));
                });
            }
        }
        false
    }

    fn spawn(&mut self, fut: impl Future<Output = ()> + Send + 'static) {
        self.tasks.push(tokio::spawn(fut));
    }

    pub(crate) fn stop(&mut self) {
        if let Some(f) = self.feed.take() {
            f.abort();
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

/// Writes `:export`'s file; the number of rows written.
fn export(path: &str, format: ExportFormat, referrals: &[Referral]) -> Result<usize, String> {
    let file = std::fs::File::create(crate::config::expand_home_env(path))
        .map_err(|e| format!("cannot create {path}: {e}"))?;
    let mut out = BufWriter::new(file);
    crate::export::export_referrals(&mut out, referrals, format == ExportFormat::Json)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write {path}: {e}"))?;
    Ok(referrals.len())
}

/// Most lines of `:` history kept.
pub(crate) const HISTORY_MAX: usize = 1000;

/// The history file: next to the log file (`$XDG_STATE_HOME/leadx/history`).
pub fn history_path(settings: &Settings) -> Option<PathBuf> {
    let dir = settings.log_file.parent()?;
    (!dir.as_os_str().is_empty()).then(|| dir.join("history"))
}

/// The last `HISTORY_MAX` lines of the history file (none when missing).
pub fn load_history(path: &std::path::Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let lines: Vec<String> = text
        .lines()
        .map(crate::sanitize::clean_line)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let skip = lines.len().saturating_sub(HISTORY_MAX);
    let kept: Vec<String> = lines.into_iter().skip(skip).collect();
    // The file only grows when appended to: cut it back now and then.
    if skip > HISTORY_MAX {
        let mut text = kept.join("\n");
        text.push('\n');
        if let Err(e) = std::fs::write(path, text) {
            tracing::warn!(error = %e, path = %path.display(), "cannot trim the command history");
        }
    }
    kept
}

pub(crate) fn append_history(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    let mut f = crate::inbox::private_file::open_append(path)?;
    writeln!(f, "{}", line.replace(['\n', '\r'], " "))
}

/// A load retried until the server gives a definite answer.
async fn load<T, F, Fut>(what: &str, tx: &UnboundedSender<Msg>, f: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    retry_until_definite(Runner::backoff(), f, |n, e, wait| {
        tracing::warn!(what, attempt = n, error = %e, ?wait, "load failed, retrying");
        let _ = tx.send(Msg::LoadRetrying {
            what: what.to_string(),
            error: e.to_string(),
            retry_in_ms: wait.as_millis().min(u64::MAX as u128) as u64,
            at: now_seconds(),
        });
    })
    .await
}

/// Sends one action, retrying with the same key until the answer is definite.
async fn send_action(
    client: &Client,
    tx: &UnboundedSender<Msg>,
    op: OpId,
    id: &str,
    request: &ActionRequest,
    key: &str,
) -> ActionOutcome {
    let result: Result<Vec<Referral>, ClientError> = retry_until_definite(
        Runner::backoff(),
        || async move {
            match request {
                ActionRequest::Accept(r) => client.accept(id, r, key).await.map(|x| vec![x]),
                ActionRequest::Reject(r) => client.reject(id, r, key).await.map(|x| vec![x]),
                ActionRequest::Withdraw(r) => client.withdraw(id, r, key).await.map(|x| vec![x]),
                ActionRequest::Close(r) => client.close(id, r, key).await.map(|x| vec![x]),
                ActionRequest::Forward(r) => client
                    .forward(id, r, key)
                    .await
                    .map(|x| vec![x.referral, x.forwarded]),
            }
        },
        |n, e, wait| {
            tracing::warn!(op, attempt = n, error = %e, ?wait, "action not answered, retrying with the same key");
            let _ = tx.send(Msg::ActionRetrying {
                op,
                error: e.to_string(),
            });
        },
    )
    .await;
    match result {
        Ok(refs) => ActionOutcome::Applied(refs),
        Err(e) if e.code() == Some(ErrorCode::Conflict) => ActionOutcome::Conflict {
            current: e.current().cloned().map(Box::new),
            message: e.to_string(),
        },
        Err(e) => ActionOutcome::Failed {
            message: e.to_string(),
        },
    }
}

/// `POST /v1/referrals` with one key until the answer is definite.
async fn send_lead(
    client: &Client,
    request: &CreateReferral,
    key: &str,
) -> Result<Referral, LeadRefusal> {
    retry_until_definite(
        Runner::backoff(),
        || client.send(request, key),
        |n, e, wait| {
            tracing::warn!(attempt = n, error = %e, ?wait, "new lead not answered, retrying with the same key");
        },
    )
    .await
    .map_err(|e| LeadRefusal {
        field: match &e {
            ClientError::Api { error, .. } => error.field.clone(),
            _ => None,
        },
        message: e.to_string(),
    })
}

/// Follows the feed and relays it as `Msg::Feed`, stamped with the time.
async fn relay_feed(client: Client, after: u64, tx: UnboundedSender<Msg>) {
    let mut handle = watch(client, after, FeedOptions::default());
    while let Some(ev) = handle.recv().await {
        let at = now_seconds();
        let msg = match ev {
            FeedEvent::Connected => FeedMsg::Connected { at },
            FeedEvent::Event { seq, referral } => FeedMsg::Event {
                seq,
                referral: Box::new(referral),
                at,
            },
            FeedEvent::Disconnected { reason, retry_in } => {
                tracing::warn!(%reason, ?retry_in, "feed dropped");
                FeedMsg::Disconnected {
                    reason,
                    retry_in_ms: retry_in.as_millis().min(u64::MAX as u128) as u64,
                    at,
                }
            }
            FeedEvent::Gone => FeedMsg::Gone { at },
            FeedEvent::Stale => FeedMsg::Stale { at },
        };
        if tx.send(Msg::Feed(msg)).is_err() {
            return;
        }
    }
}
