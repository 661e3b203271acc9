//! The wire shapes of the REST API (camelCase, section 6 of the contract). Domain types never
//! reach the wire: each response DTO is built from the domain's values here, and each request
//! DTO is checked into domain values by its route.

mod actions;
mod conversation;
mod health;

pub use self::{
    actions::{
        BlockEntry, BlockRequest, BlockResult, MuteEntry, MuteRequest, MuteResult, ReadAck,
        ReadRequest,
    },
    conversation::{
        ChatList, ChatListItem, ChatListParams, ChatListParticipant, Conversation,
        ConversationType, CreateOneToOne, History, HistoryParams, Message, Participant, Presence,
    },
    health::{DependencyCheck, Liveness, ReadinessReport},
};
