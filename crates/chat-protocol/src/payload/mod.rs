//! What the server sends: acks, events and REST answers, built from domain values here.

mod actions;
mod conversation;
mod group;
mod message;
mod read;
mod session;
mod sync;

pub use self::{
    actions::{BlockEntry, BlockResult, MuteChange, MuteEntry, MuteResult},
    conversation::{
        ChatList, ChatListItem, ChatListParticipant, Conversation, ConversationType, History,
        MemberRole, Participant, Presence,
    },
    group::{
        ChangeData, ChangeItem, ChangeKindName, Changes, ConversationCreated, ConversationJoined,
        ConversationLeft, ConversationUpdated, Member, MemberAdded, MemberPage, MemberRemoved,
        MemberRoleChanged, MembersAddedAnswer,
    },
    message::{DeliveryStatus, Message, MessageDelivered, MessageReceived},
    read::{ReadAck, ReadReceiptReceived, UnreadCountUpdated},
    session::{
        AuthAck, Connected, Greeted, Pong, PresenceAck, PresenceChanged, Reconnected, ResumeStatus,
        TypingAck, TypingIndicator, by_conversation,
    },
    sync::SyncHint,
};
