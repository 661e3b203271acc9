//! What clients send: socket payloads and REST bodies, each checked into domain values here.
//! Anything that does not fit is a `validation` failure naming the field.

use std::collections::BTreeMap;

use chat_domain::{
    ClientSequence, ContentPolicy, ConversationId, MessageContent, MessageId, ServerSequence,
    Timestamp, UserId, ids::ParseIdError, presence::PresenceStatus, read_marker::ReadTarget,
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;

use crate::{HandshakeRefusal, error::Failure, time};

/// Parses an event's JSON payload into `T`; anything that does not fit is `validation`.
///
/// # Errors
/// `validation`, also when the payload is not a JSON object.
pub fn parse<T: DeserializeOwned>(payload: Value) -> Result<T, Failure> {
    if !payload.is_object() {
        return Err(Failure::validation("the payload must be a JSON object"));
    }
    serde_json::from_value(payload).map_err(|e| Failure::validation(e.to_string()))
}

fn id<T>(raw: &str, parse: fn(&str) -> Result<T, ParseIdError>) -> Result<T, Failure> {
    parse(raw).map_err(|e| Failure::validation(e.to_string()))
}

fn instant(raw: Option<&str>, field: &'static str) -> Result<Option<Timestamp>, Failure> {
    time::parse_optional(raw, field).map_err(|e| Failure::validation(e.to_string()))
}

/// The largest sequence number (server or client) a request may name: 2^63 - 1, what both
/// databases hold (a signed 64-bit integer).
pub const MAX_SEQUENCE: u64 = i64::MAX.unsigned_abs();

/// `n` when the store can hold it; `validation` naming `field` above [`MAX_SEQUENCE`].
///
/// # Errors
/// `validation` above [`MAX_SEQUENCE`].
pub fn bounded_sequence(n: u64, field: &str) -> Result<u64, Failure> {
    if n > MAX_SEQUENCE {
        return Err(Failure::validation(format!("{field} is above 2^63 - 1")));
    }
    Ok(n)
}

/// A whole number that may be written with a zero fraction (`3.0`): JSON Schema's `integer`
/// (the OpenAPI and AsyncAPI documents) counts `3.0` as one, serde's `u64` does not. A
/// fraction, a negative number or one of 2^64 or more is refused (`validation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WholeNumber(pub u64);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        /// 2^64, the first float beyond `u64`.
        const BEYOND_U64: f64 = 18_446_744_073_709_551_616.0;
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Number {
            Whole(u64),
            Float(f64),
        }
        match Number::deserialize(deserializer)? {
            Number::Whole(n) => Ok(Self(n)),
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a whole, non-negative float below 2^64 converts exactly"
            )]
            Number::Float(f) if f.fract() == 0.0 && (0.0..BEYOND_U64).contains(&f) => {
                Ok(Self(f as u64))
            }
            Number::Float(f) => Err(D::Error::custom(format!(
                "invalid value: {f}, expected a whole number of at least 0"
            ))),
        }
    }
}

/// `message:send`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(optional_fields))]
pub struct MessageSend {
    /// Where.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub conversation_id: String,
    /// The text: 1..`CHAT_MAX_MESSAGE_CHARS` after trimming, no control characters but `\n`, `\t`.
    pub content: String,
    /// The client's id for it (a UUID; the idempotency key).
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub message_id: String,
    /// The client's clock, epoch milliseconds.
    pub client_timestamp: Option<i64>,
    /// The sending device's numbering of its messages in this conversation.
    pub client_sequence: Option<u64>,
    /// Informational (the sending device is the socket's), but type-checked like every field.
    pub client_device_id: Option<String>,
}

/// A validated `message:send`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFields {
    /// Where.
    pub conversation_id: ConversationId,
    /// Which.
    pub message_id: MessageId,
    /// What.
    pub content: MessageContent,
    /// The device's numbering.
    pub client_sequence: Option<ClientSequence>,
    /// The client's clock.
    pub client_timestamp: Option<Timestamp>,
}

impl MessageSend {
    /// Validates into domain values.
    ///
    /// # Errors
    /// `validation`.
    pub fn validate(self, policy: &ContentPolicy) -> Result<SendFields, Failure> {
        Ok(SendFields {
            conversation_id: id(&self.conversation_id, ConversationId::parse)?,
            message_id: id(&self.message_id, MessageId::parse)?,
            content: MessageContent::new(&self.content, policy)
                .map_err(|e| Failure::validation(e.to_string()))?,
            client_sequence: self
                .client_sequence
                .map(|n| {
                    // Stored as a signed 64-bit integer on both databases: a larger one is
                    // refused here, at once, rather than held and failed by the store.
                    bounded_sequence(n, "clientSequence").map(ClientSequence::new)
                })
                .transpose()?,
            client_timestamp: self.client_timestamp.map(Timestamp::from_millis),
        })
    }
}

/// `{conversationId}`: `typing:start`, `typing:stop`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ConversationRef {
    /// Where.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub conversation_id: String,
}

impl ConversationRef {
    /// # Errors
    /// `validation`.
    pub fn validate(&self) -> Result<ConversationId, Failure> {
        id(&self.conversation_id, ConversationId::parse)
    }
}

/// Where a read marker moves to: the body of `POST /conversations/{id}/read` (at least one
/// field).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(optional_fields))]
pub struct ReadRequest {
    /// Read up to the newest message at or before this instant (RFC 3339).
    #[cfg_attr(
        feature = "openapi",
        schema(format = DateTime, example = "2026-01-27T10:30:01.234Z")
    )]
    pub last_read_at: Option<String>,
    /// Read up to this sequence.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<u64>, maximum = 9_223_372_036_854_775_807_u64)
    )]
    #[cfg_attr(feature = "typescript", ts(as = "Option<u64>"))]
    pub last_read_sequence: Option<WholeNumber>,
    /// Read up to the newest of these messages.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<uuid::Uuid>>))]
    pub message_ids: Option<Vec<String>>,
}

impl ReadRequest {
    /// # Errors
    /// `validation`, also when none of the three is given.
    pub fn validate(self) -> Result<ReadTarget, Failure> {
        let at = instant(self.last_read_at.as_deref(), "lastReadAt")?;
        let ids = self
            .message_ids
            .unwrap_or_default()
            .iter()
            .map(|raw| id(raw, MessageId::parse))
            .collect::<Result<Vec<_>, _>>()?;
        let sequence = self
            .last_read_sequence
            .map(|n| bounded_sequence(n.0, "lastReadSequence").map(ServerSequence::new))
            .transpose()?;
        ReadTarget::new(sequence, at, ids).map_err(|e| Failure::validation(e.to_string()))
    }
}

/// `message:read`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MessageRead {
    /// Where.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub conversation_id: String,
    /// Up to where.
    #[serde(flatten)]
    pub target: ReadRequest,
}

impl MessageRead {
    /// # Errors
    /// `validation`.
    pub fn validate(self) -> Result<(ConversationId, ReadTarget), Failure> {
        let conversation = id(&self.conversation_id, ConversationId::parse)?;
        Ok((conversation, self.target.validate()?))
    }
}

/// `presence:update`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct PresenceUpdate {
    /// `online` or `away`.
    #[cfg_attr(feature = "typescript", ts(type = "\"online\" | \"away\""))]
    pub status: String,
}

impl PresenceUpdate {
    /// # Errors
    /// `validation` unless `online` or `away`.
    pub fn validate(&self) -> Result<PresenceStatus, Failure> {
        PresenceStatus::parse_settable(&self.status).map_err(|e| Failure::validation(e.to_string()))
    }
}

/// Whom to block or unblock: the body of `POST /conversations/{id}/block` and `/unblock`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct BlockRequest {
    /// Another participant of the conversation.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub blocked_user_id: String,
}

impl BlockRequest {
    /// # Errors
    /// `validation`.
    pub fn validate(&self) -> Result<UserId, Failure> {
        id(&self.blocked_user_id, UserId::parse)
    }
}

/// `block:user` / `unblock:user`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct BlockUser {
    /// Where.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub conversation_id: String,
    /// Whom.
    #[serde(flatten)]
    pub target: BlockRequest,
}

impl BlockUser {
    /// # Errors
    /// `validation`.
    pub fn validate(&self) -> Result<(ConversationId, UserId), Failure> {
        Ok((
            id(&self.conversation_id, ConversationId::parse)?,
            self.target.validate()?,
        ))
    }
}

/// Until when to mute: the body of `POST /conversations/{id}/mute` (may be empty: muted until
/// unmuted).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(optional_fields))]
pub struct MuteRequest {
    /// Until when (RFC 3339, in the future); absent or `null`: until unmuted.
    #[cfg_attr(
        feature = "openapi",
        schema(format = DateTime, example = "2099-01-28T10:30:00.000Z")
    )]
    pub muted_until: Option<String>,
}

impl MuteRequest {
    /// # Errors
    /// `validation`.
    pub fn validate(&self) -> Result<Option<Timestamp>, Failure> {
        instant(self.muted_until.as_deref(), "mutedUntil")
    }
}

/// `mute:conversation` / `unmute:conversation` (`mutedUntil` is ignored by unmute).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct MuteConversation {
    /// Where.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub conversation_id: String,
    /// Until when.
    #[serde(flatten)]
    pub until: MuteRequest,
}

impl MuteConversation {
    /// # Errors
    /// `validation`.
    pub fn validate(&self) -> Result<(ConversationId, Option<Timestamp>), Failure> {
        let until = self.until.validate()?;
        Ok((id(&self.conversation_id, ConversationId::parse)?, until))
    }
}

/// `socket:ping` (the payload may be left out).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(optional_fields))]
pub struct SocketPing {
    /// Echoed back as is.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[cfg_attr(feature = "typescript", ts(type = "unknown"))]
    pub client_time: Option<Value>,
}

/// `auth`: a fresh token for a live socket.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct AuthRefresh {
    /// The fresh token (same `sub`).
    pub token: String,
}

/// The handshake's `auth` object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(optional_fields))]
pub struct HandshakeAuth {
    /// The token (preferred over `?token=`).
    pub token: Option<String>,
    /// The device id (else `?deviceId=`, else the server makes one).
    pub device_id: Option<String>,
    /// Where the client stands, per conversation: `{conversationId: serverSequence}`.
    pub last_sequences: Option<BTreeMap<String, u64>>,
}

impl HandshakeAuth {
    /// The handshake's `auth` object: none (or `null`) is an empty one; anything but an
    /// object, or a field of the wrong type (a numeric `deviceId`, a negative `lastSequences`
    /// value), is `validation`, never taken for a missing token. The field's name, never its
    /// value, goes to the log (a connect error carries only the code).
    ///
    /// # Errors
    /// [`HandshakeRefusal::Validation`].
    pub fn from_json(raw: Option<Value>) -> Result<Self, HandshakeRefusal> {
        fn field<T: DeserializeOwned>(
            fields: &serde_json::Map<String, Value>,
            name: &'static str,
        ) -> Result<Option<T>, HandshakeRefusal> {
            match fields.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => T::deserialize(v).map(Some).map_err(|_| {
                    tracing::debug!(
                        field = name,
                        "handshake auth refused: a field of the wrong type"
                    );
                    HandshakeRefusal::Validation
                }),
            }
        }
        let fields = match raw {
            None | Some(Value::Null) => return Ok(Self::default()),
            Some(Value::Object(fields)) => fields,
            Some(_) => {
                tracing::debug!("handshake auth refused: not an object");
                return Err(HandshakeRefusal::Validation);
            }
        };
        Ok(Self {
            token: field(&fields, "token")?,
            device_id: field(&fields, "deviceId")?,
            last_sequences: field(&fields, "lastSequences")?,
        })
    }

    /// `lastSequences` as domain values (none given: empty).
    ///
    /// # Errors
    /// [`HandshakeRefusal::Validation`] for a key that is not a conversation id.
    pub fn sequences(&self) -> Result<BTreeMap<ConversationId, ServerSequence>, HandshakeRefusal> {
        self.last_sequences
            .iter()
            .flatten()
            .map(|(c, n)| {
                ConversationId::parse(c)
                    .map(|c| (c, ServerSequence::new(*n)))
                    .map_err(|_| HandshakeRefusal::Validation)
            })
            .collect()
    }
}

/// `POST /conversations/create/one-to-one` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct CreateOneToOne {
    /// The other user.
    pub participant_id: uuid::Uuid,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ErrorCode;

    #[test]
    fn a_payload_that_is_not_an_object_is_validation() {
        for payload in [json!(null), json!("x"), json!([1]), json!(3)] {
            let got = parse::<ConversationRef>(payload).unwrap_err();
            assert_eq!(got.code, ErrorCode::Validation);
        }
    }

    #[test]
    fn a_read_sequence_is_a_json_schema_integer_and_at_most_2_63_minus_1() {
        let c = "0b6d5c39-4f0e-4a55-8a5a-6f3d0c1a2b3c";
        let sequence = |n: Value| {
            parse::<MessageRead>(json!({"conversationId": c, "lastReadSequence": n}))
                .and_then(MessageRead::validate)
                .map(|(_, target)| target)
        };
        let four = ReadTarget::new(Some(ServerSequence::new(4)), None, vec![]).unwrap();
        assert_eq!(sequence(json!(4)).unwrap(), four);
        assert_eq!(
            sequence(json!(4.0)).unwrap(),
            four,
            "4.0 is an integer to JSON Schema"
        );
        let max = ReadTarget::new(Some(ServerSequence::new(MAX_SEQUENCE)), None, vec![]).unwrap();
        assert_eq!(sequence(json!(MAX_SEQUENCE)).unwrap(), max);
        for refused in [
            json!(4.5),
            json!(-1),
            json!(-1.0),
            json!("4"),
            json!(MAX_SEQUENCE + 1),
            json!(1e19),
            json!(1e30),
        ] {
            let got = sequence(refused.clone()).unwrap_err();
            assert_eq!(got.code, ErrorCode::Validation, "{refused}");
        }
    }

    #[test]
    fn flattened_socket_payloads_read_the_rest_body_beside_the_conversation() {
        let c = "0b6d5c39-4f0e-4a55-8a5a-6f3d0c1a2b3c";
        let read: MessageRead = parse(json!({"conversationId": c, "lastReadSequence": 4})).unwrap();
        let (conversation, target) = read.validate().unwrap();
        assert_eq!(conversation.to_string(), c);
        assert_eq!(
            target,
            ReadTarget::new(Some(ServerSequence::new(4)), None, vec![]).unwrap()
        );
        let block: BlockUser = parse(json!({"conversationId": c, "blockedUserId": c})).unwrap();
        assert!(block.validate().is_ok());
        let mute: MuteConversation =
            parse(json!({"conversationId": c, "mutedUntil": "tomorrow"})).unwrap();
        assert!(mute.validate().unwrap_err().message.contains("mutedUntil"));
    }

    #[test]
    fn handshake_auth_of_the_wrong_shape_is_validation_and_none_is_empty() {
        let c = "0b6d5c39-4f0e-4a55-8a5a-6f3d0c1a2b3c";
        assert!(HandshakeAuth::from_json(None).unwrap().token.is_none());
        assert!(
            HandshakeAuth::from_json(Some(json!(null)))
                .unwrap()
                .token
                .is_none()
        );
        let good = HandshakeAuth::from_json(Some(json!({
            "token": "t", "deviceId": "d", "lastSequences": {c: 3}, "other": 1
        })))
        .unwrap();
        assert_eq!(good.token.as_deref(), Some("t"));
        assert_eq!(good.sequences().unwrap().len(), 1);
        for bad in [
            json!("token"),
            json!([1]),
            json!({"token": 5}),
            json!({"deviceId": 42}),
            json!({"lastSequences": {c: -1}}),
            json!({"lastSequences": {c: "7"}}),
            json!({"lastSequences": [1, 2]}),
        ] {
            assert_eq!(
                HandshakeAuth::from_json(Some(bad.clone())).unwrap_err(),
                HandshakeRefusal::Validation,
                "{bad}"
            );
        }
        let bad_key = HandshakeAuth::from_json(Some(json!({"lastSequences": {"x": 1}}))).unwrap();
        assert_eq!(
            bad_key.sequences().unwrap_err(),
            HandshakeRefusal::Validation
        );
    }

    #[test]
    fn a_client_sequence_the_store_cannot_hold_is_validation() {
        let send = |n: u64| {
            parse::<MessageSend>(json!({
                "conversationId": "0b6d5c39-4f0e-4a55-8a5a-6f3d0c1a2b3c",
                "messageId": "1b6d5c39-4f0e-4a55-8a5a-6f3d0c1a2b3c",
                "content": "hi",
                "clientSequence": n,
            }))
            .unwrap()
            .validate(&ContentPolicy::default())
        };
        assert!(send(u64::try_from(i64::MAX).unwrap()).is_ok());
        let refused = send(u64::try_from(i64::MAX).unwrap() + 1).unwrap_err();
        assert_eq!(refused.code, ErrorCode::Validation);
        assert!(refused.message.contains("clientSequence"));
    }

    #[test]
    fn bad_fields_are_named() {
        let c = "0b6d5c39-4f0e-4a55-8a5a-6f3d0c1a2b3c";
        let cases = [
            (json!({"conversationId": "nope"}), "conversationId"),
            (
                json!({"conversationId": c, "messageIds": ["x"]}),
                "messageId",
            ),
            (json!({"conversationId": c}), ""),
        ];
        for (payload, field) in cases {
            let got = parse::<MessageRead>(payload).and_then(MessageRead::validate);
            let failure = got.unwrap_err();
            assert_eq!(failure.code, ErrorCode::Validation);
            assert!(failure.message.contains(field), "{}", failure.message);
        }
    }
}
