//! `leadx send --to PARTNER --company ... --category ... [...]`: sends a
//! lead and prints the new referral's id.

use std::io::{self, Write};
use std::time::Duration;

use clap::Args;

use super::{ConnectArgs, EXIT_OK, Failure, client_failure, connect_to_act};
use crate::client::{Backoff, ClientError, new_idempotency_key, retry_until_definite_or_cancelled};
use crate::sanitize::clean_line;
use crate::wire::{CreateReferral, ErrorCode, LeadInput};

/// `leadx send`.
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// The partner to send the lead to.
    #[arg(long, value_name = "PARTNER")]
    pub to: String,
    /// The prospective customer's company.
    #[arg(long)]
    pub company: String,
    /// What it needs: bandwidth, hosting, colocation, services, design, ...
    #[arg(long)]
    pub category: String,
    /// The company's domain (finds duplicates).
    #[arg(long)]
    pub domain: Option<String>,
    /// The contact's name.
    #[arg(long)]
    pub contact_name: Option<String>,
    /// The contact's email.
    #[arg(long, value_parser = parse_email)]
    pub contact_email: Option<String>,
    /// The contact's phone.
    #[arg(long)]
    pub contact_phone: Option<String>,
    /// What the customer wants.
    #[arg(long)]
    pub summary: Option<String>,
    /// Estimated value: `12000`, `12k`, `2.5m`, `1,200.50`.
    #[arg(long, value_parser = parse_value)]
    pub value: Option<i64>,
    /// ISO 4217 currency, any case (USD when not given).
    #[arg(long, value_parser = parse_currency)]
    pub currency: Option<String>,
    /// The customer's region.
    #[arg(long)]
    pub region: Option<String>,
    /// Commission, whole percent.
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub commission: Option<u32>,
    /// A note to the recipient.
    #[arg(long)]
    pub note: Option<String>,
    /// How long the recipient has to decide (1..720; default 72).
    #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(1..=720))]
    pub expires_in_hours: Option<u32>,
    /// How long to keep retrying when the server does not answer.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub retry_for: u64,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// An amount as `--value` takes it, in cents: [`crate::money::parse_amount`].
pub(super) fn parse_value(text: &str) -> Result<i64, String> {
    crate::money::parse_amount(text)
}

/// `--contact-email`: refused when it cannot be an address.
fn parse_email(text: &str) -> Result<String, String> {
    let email = text.trim();
    match crate::domain::validate::email_problem(email) {
        None => Ok(email.to_owned()),
        Some(why) => Err(format!("not an email address ({why}): {email:?}")),
    }
}

/// `--currency`: three letters, upper-cased (`usd` is USD).
fn parse_currency(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(format!(
            "expected a three-letter ISO 4217 currency such as USD or EUR, not {text:?}"
        ))
    }
}

pub(super) async fn run(args: SendArgs) -> Result<u8, Failure> {
    let client = connect_to_act(&args.connect, "send")?;
    let request = CreateReferral {
        to_partner: args.to.trim().to_owned(),
        lead: LeadInput {
            company: Some(args.company.clone()),
            domain: args.domain.clone(),
            contact_name: args.contact_name.clone(),
            contact_email: args.contact_email.clone(),
            contact_phone: args.contact_phone.clone(),
            category: Some(args.category.clone()),
            summary: args.summary.clone(),
            est_value_cents: args.value,
            currency: args.currency.clone(),
            region: args.region.clone(),
        },
        commission_pct: args.commission,
        note: args.note.clone(),
        expires_in_hours: args.expires_in_hours,
    };
    let key = new_idempotency_key();
    let sent = retry_until_definite_or_cancelled(
        Backoff::default(),
        tokio::time::sleep(Duration::from_secs(args.retry_for)),
        || client.send(&request, &key),
        |attempt, error, wait| {
            say_err!(
                "leadx: send, attempt {attempt}: {}; retrying in {:.1}s",
                clean_line(&error.to_string()),
                wait.as_secs_f64()
            );
        },
    )
    .await;
    match sent {
        Ok(referral) => {
            let mut out = io::stdout().lock();
            writeln!(out, "{}", clean_line(&referral.id))?;
            out.flush()?;
            Ok(EXIT_OK)
        }
        Err(e) => {
            let mut context = "send".to_owned();
            if e.to_string().contains("no partner") {
                context.push_str(&partner_hint(&client, &request.to_partner).await);
            }
            if e.code() == Some(ErrorCode::Duplicate)
                && let ClientError::Api { error, .. } = &e
                && let Some(existing) = &error.existing_id
            {
                context = format!("send (already open as {})", clean_line(existing));
            }
            Err(client_failure(&context, &e))
        }
    }
}

/// ` (did you mean 'acme-web'?)` for a partner id the exchange does not
/// know, from its directory (nothing when it cannot be read).
pub(super) async fn partner_hint(client: &crate::client::Client, typed: &str) -> String {
    match client.partners(None).await {
        Ok(partners) => crate::suggest::did_you_mean(typed, partners.iter().map(|p| p.id.as_str())),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_currency, parse_email, parse_value};

    #[test]
    fn emails_and_currencies_are_checked_before_sending() {
        assert_eq!(parse_email(" jo@example.com "), Ok("jo@example.com".into()));
        for bad in [
            "notanemail",
            "@example.com",
            "jo@example",
            "jo@@example.com",
            "j o@x.com",
        ] {
            assert!(
                parse_email(bad)
                    .unwrap_err()
                    .starts_with("not an email address"),
                "{bad}"
            );
        }
        assert_eq!(parse_currency("usd"), Ok("USD".into()));
        assert_eq!(parse_currency("Eur"), Ok("EUR".into()));
        assert!(parse_currency("dollars").is_err());
    }

    #[test]
    fn values_parse_to_cents_and_commas_are_never_decimals() {
        assert_eq!(parse_value("12000"), Ok(1_200_000));
        assert_eq!(parse_value("12k"), Ok(1_200_000));
        assert_eq!(parse_value("2.5m"), Ok(250_000_000));
        assert_eq!(parse_value("1,200.50"), Ok(120_050));
        assert_eq!(parse_value("0"), Ok(0));
        assert_eq!(parse_value("0.01"), Ok(1));
        assert_eq!(parse_value(".5k"), Ok(50_000));
        for bad in ["12x", "", "k", "-5", "1,20", "12,5k", "99999999999k"] {
            assert!(parse_value(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_value("0.001").unwrap_err(),
            "\"0.001\" has more precision than a cent"
        );
        assert!(
            parse_value("99999999999999999999m")
                .unwrap_err()
                .contains("above the largest amount accepted")
        );
    }
}
