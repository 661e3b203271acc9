//! `sync:hint`: live events may have been missed (contract 4.6).

use std::collections::BTreeMap;

use chat_domain::resume::ConversationHead;
use serde::Serialize;

/// `sync:hint`: the node this socket is on may have missed live events from the other nodes
/// (its Redis subscription was interrupted, or its inbound queue overflowed). The newest
/// `serverSequence` of each of the user's conversations, read after the node was back; a
/// client behind in one fetches the rest by history (`afterSequence`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct SyncHint {
    /// Conversation id → its newest `serverSequence`.
    pub last_sequences: BTreeMap<String, u64>,
}

impl SyncHint {
    /// The hint for a user whose conversations' heads are `heads`.
    #[must_use]
    pub fn new(heads: &[ConversationHead]) -> Self {
        Self {
            last_sequences: heads
                .iter()
                .map(|h| (h.conversation_id.to_string(), h.last_sequence.get()))
                .collect(),
        }
    }
}
