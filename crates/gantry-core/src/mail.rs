//! E-mail: what Gantry sends (notifications, and an administrator's test mail) goes out over
//! SMTP from the durable background queue. A mail is queued in the transaction of the change
//! it tells about, so a crash loses none; the worker sends it, and a failed send (the SMTP
//! server down, say) is retried with growing waits, so mails go out once it is back. A mail is
//! one job, which ends when the SMTP server accepted it: sent once.
//!
//! Mail is off until an SMTP server is configured ([`MailSettings`], from `gantry.toml`): then
//! nothing is queued at all.

use std::time::Duration;

use lettre::message::header::{self, ContentType};
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::background::Work;
use crate::{Core, CoreError, CoreResult};

/// How long one SMTP conversation may take (connect, each command, the message).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest subject and body a mail carries.
const MAX_SUBJECT: usize = 998;
const MAX_BODY: usize = 1 << 20;

/// Where mail goes out: an SMTP URL (`smtp://host:25` in clear, `smtp://host:587?tls=required`
/// for STARTTLS, `smtps://user:password@host:465` for TLS; user and password percent-encoded)
/// and the sender (`Gantry <gantry@example.com>`).
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub smtp_url: String,
    pub from: String,
}

/// The configured sender.
#[derive(Clone)]
pub(crate) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The host part of message ids (`<…@host>`).
    host: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the SMTP password: only the sender is shown.
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// Checks the settings; an error says what is wrong with them in a sentence.
    pub(crate) fn new(settings: &MailSettings) -> Result<Mailer, String> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|error| format!("the mail sender '{}' is not an e-mail address: {error}", settings.from))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
            .map_err(|error| format!("the SMTP URL is not one Gantry can use: {error}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let host = from.email.domain().to_owned();
        Ok(Mailer { transport, from, host })
    }
}

/// A mail to send: plain text, threaded by its ids.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Addresses (`ada@example.com`), each sent its own copy so no one sees the others.
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    /// This mail's `Message-ID` (without angle brackets); a new one when empty.
    #[serde(default)]
    pub message_id: String,
    /// The thread's first mail (`In-Reply-To` and `References`), for mails about one item.
    #[serde(default)]
    pub in_reply_to: Option<String>,
    /// Where the recipient stops these mails (`List-Unsubscribe`).
    #[serde(default)]
    pub unsubscribe_url: Option<String>,
}

impl Core {
    /// Sets the SMTP server mail goes out through (mail is off without one). Fails when the
    /// settings are not usable, saying why.
    pub fn with_mail(mut self, settings: &MailSettings) -> Result<Core, String> {
        self.mailer = Some(std::sync::Arc::new(Mailer::new(settings)?));
        Ok(self)
    }

    /// Whether mail is configured.
    pub fn sends_mail(&self) -> bool {
        self.mailer.is_some()
    }

    /// Who mail comes from (`Gantry <gantry@example.com>`), when mail is on.
    pub fn mail_sender(&self) -> Option<String> {
        self.mailer.as_ref().map(|mailer| mailer.from.to_string())
    }

    /// The `Message-ID` that starts the thread of mails about `item` (`issue_12`), the same
    /// for every mail about it; `None` when mail is off.
    pub(crate) fn mail_thread_id(&self, item: &str) -> Option<String> {
        self.mailer.as_ref().map(|mailer| format!("{item}@{}", mailer.host))
    }

    /// Queues `mail` in the caller's transaction (nothing when mail is off); call
    /// [`Core::wake_background`] once it is committed. Returns whether it was queued.
    pub(crate) async fn queue_mail(&self, conn: &mut gantry_db::Conn, mut mail: OutgoingMail) -> CoreResult<bool> {
        let Some(mailer) = &self.mailer else { return Ok(false) };
        if mail.to.is_empty() {
            return Ok(false);
        }
        if mail.message_id.is_empty() {
            mail.message_id = format!("{}@{}", crate::random_token(), mailer.host);
        }
        mail.subject = mail.subject.chars().filter(|c| !c.is_control()).take(MAX_SUBJECT).collect();
        if mail.text.len() > MAX_BODY {
            let mut end = MAX_BODY;
            while !mail.text.is_char_boundary(end) {
                end -= 1;
            }
            mail.text.truncate(end);
        }
        // One job per recipient: a retry never sends again to those who already have it.
        for to in std::mem::take(&mut mail.to) {
            self.enqueue(conn, &Work::SendMail { mail: OutgoingMail { to: vec![to], ..mail.clone() } }).await?;
        }
        Ok(true)
    }

    /// An administrator's test mail from the admin area, as [`Core::send_test_mail_as_operator`].
    pub async fn send_test_mail(&self, actor: &crate::Actor, to: &str) -> CoreResult<()> {
        crate::policy::require_admin(actor)?;
        self.send_test_mail_as_operator(to).await
    }

    /// Sends the operator's test mail to `to` through the queue, as notifications go
    /// (`gantry admin send-test-mail`): the running server sends it.
    pub async fn send_test_mail_as_operator(&self, to: &str) -> CoreResult<()> {
        if !self.sends_mail() {
            return Err(CoreError::Conflict(
                "mail is off: configure an SMTP server (mail_smtp_url and mail_from in gantry.toml)".into(),
            ));
        }
        let to = to.trim();
        if to.parse::<lettre::Address>().is_err() {
            return Err(CoreError::invalid("to", format!("'{to}' is not an e-mail address")));
        }
        let mail = OutgoingMail {
            to: vec![to.to_owned()],
            subject: "Gantry test e-mail".into(),
            text: "This is a test e-mail from Gantry: mail reaches you.\n".into(),
            message_id: String::new(),
            in_reply_to: None,
            unsubscribe_url: None,
        };
        let mut tx = self.db.begin().await?;
        self.queue_mail(&mut tx, mail).await?;
        tx.commit().await.map_err(gantry_db::DbError::from)?;
        self.wake_background();
        Ok(())
    }

    /// Sends a queued mail (the background worker's part): one message per recipient. An
    /// error leaves the job to be retried.
    pub(crate) async fn deliver_mail(&self, mail: &OutgoingMail) -> CoreResult<()> {
        let Some(mailer) = &self.mailer else {
            tracing::warn!(subject = %mail.subject, "a queued mail is dropped: mail is no longer configured");
            return Ok(());
        };
        for to in &mail.to {
            let Ok(to) = to.parse::<Mailbox>() else {
                tracing::warn!(to = %to, "a queued mail's recipient is not an address; skipped");
                continue;
            };
            let mut message = Message::builder()
                .from(mailer.from.clone())
                .to(to)
                .subject(mail.subject.clone())
                .message_id(Some(format!("<{}>", mail.message_id)))
                .header(ContentType::TEXT_PLAIN)
                .header(AutoSubmitted);
            if let Some(thread) = &mail.in_reply_to {
                message = message.in_reply_to(format!("<{thread}>")).references(format!("<{thread}>"));
            }
            if let Some(url) = &mail.unsubscribe_url {
                message = message.header(ListUnsubscribe(format!("<{url}>")));
            }
            let message = message.body(mail.text.clone()).map_err(|error| CoreError::Internal(Box::new(error)))?;
            mailer.transport.send(message).await.map_err(|error| CoreError::Internal(Box::new(error)))?;
        }
        Ok(())
    }
}

/// `Auto-Submitted: auto-generated`: no auto-replies to Gantry's mails.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl header::Header for AutoSubmitted {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// `List-Unsubscribe: <url>`.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl header::Header for ListUnsubscribe {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(value: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(value.to_owned()))
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}
