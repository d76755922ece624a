//! Slack incoming webhook: `{"text": ..., "blocks": [...]}`. `text` is the notification's
//! fallback (and what phones show); the blocks carry the subject as a header and the body.

use serde_json::{Value, json};
use warroom_core::outbox::{AttemptError, OutgoingMessage};

/// Slack limits a header block to 150 characters and a section's text to 3000.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// The JSON Slack receives.
pub fn body(message: &OutgoingMessage) -> Value {
    json!({
        "text": cut(&message.subject, 3000),
        "blocks": [
            { "type": "header", "text": { "type": "plain_text", "text": cut(&message.subject, 150) } },
            { "type": "section", "text": { "type": "plain_text", "text": cut(&message.text, 3000) } },
            { "type": "context", "elements": [
                { "type": "mrkdwn", "text": format!("Warroom · {} · `{}`", message.incident_id, message.id) }
            ] }
        ]
    })
}

/// One POST to the incoming webhook.
pub async fn send(
    http: &reqwest::Client,
    webhook_url: &str,
    message: &OutgoingMessage,
) -> Result<(), AttemptError> {
    let response = http
        .post(webhook_url)
        .json(&body(message))
        .send()
        .await
        .map_err(|e| super::transport_error(&e))?;
    super::http_outcome(response.status())
}

#[cfg(test)]
mod tests {
    use super::*;
    use warroom_core::outbox::Channel;

    #[test]
    fn slack_gets_text_and_blocks() {
        let m = OutgoingMessage {
            id: "msg_1".into(),
            incident_id: "INC-20261122-001".into(),
            channel: Channel::Slack {
                webhook_url: "https://hooks.slack.com/x".into(),
            },
            subject: "x".repeat(200),
            text: "body".into(),
            payload: json!({}),
        };
        let b = body(&m);
        assert_eq!(b["text"].as_str().map(str::len), Some(200));
        assert_eq!(
            b["blocks"][0]["text"]["text"]
                .as_str()
                .map(|s| s.chars().count()),
            Some(150)
        );
        assert_eq!(b["blocks"][1]["text"]["text"], "body");
    }
}
