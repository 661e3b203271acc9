// Generated from crates/chat-protocol by `UPDATE_PROTOCOL_TYPES=1 cargo test -p chat-gateway --test protocol_artifacts`.
// Do not edit: change the Rust types.

export type ErrorCode = "unauthorized" | "validation" | "not_participant" | "blocked" | "not_found" | "conflict" | "rate_limit_exceeded" | "unavailable" | "failed";

export type FailureBody = { 
/**
 * The code.
 */
code: ErrorCode, 
/**
 * For humans.
 */
message: string, 
/**
 * Seconds to wait (`rate_limit_exceeded` only).
 */
retryAfter?: number, 
/**
 * `user_blocked` or `you_blocked` (`blocked` only).
 */
reason?: string, };

export type FailureAck = { 
/**
 * What failed.
 */
error: FailureBody, };

export type ErrorPayload = { 
/**
 * The error code; for `error:unauthorized` after a token lapsed, `token_expired`.
 */
code: string, 
/**
 * For humans.
 */
message: string, 
/**
 * The event that failed (as the client named it).
 */
event: string, 
/**
 * The conversation the payload named, if any.
 */
conversationId?: string, 
/**
 * The message the payload named, if any.
 */
messageId?: string, 
/**
 * Seconds to wait (`rate_limit_exceeded` only).
 */
retryAfter?: number, 
/**
 * `user_blocked` or `you_blocked` (`blocked` only).
 */
reason?: string, 
/**
 * When (RFC 3339).
 */
timestamp: string, };

export type MessageFailed = { 
/**
 * The message the payload named, if any.
 */
messageId?: string, 
/**
 * The conversation the payload named, if any.
 */
conversationId?: string, 
/**
 * Always `failed`.
 */
status: "failed", 
/**
 * What failed.
 */
error: FailureBody, };

export type MessageSend = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * The text: 1..`CHAT_MAX_MESSAGE_CHARS` after trimming, no control characters but `\n`, `\t`.
 */
content: string, 
/**
 * The client's id for it (a UUID; the idempotency key).
 */
messageId: string, 
/**
 * The client's clock, epoch milliseconds.
 */
clientTimestamp?: number, 
/**
 * The sending device's numbering of its messages in this conversation.
 */
clientSequence?: number, 
/**
 * Informational (the sending device is the socket's), but type-checked like every field.
 */
clientDeviceId?: string, };

export type ConversationRef = { 
/**
 * Where.
 */
conversationId: string, };

export type ReadRequest = { 
/**
 * Read up to the newest message at or before this instant (RFC 3339).
 */
lastReadAt?: string, 
/**
 * Read up to this sequence.
 */
lastReadSequence?: number, 
/**
 * Read up to the newest of these messages.
 */
messageIds?: Array<string>, };

export type MessageRead = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Read up to the newest message at or before this instant (RFC 3339).
 */
lastReadAt?: string, 
/**
 * Read up to this sequence.
 */
lastReadSequence?: number, 
/**
 * Read up to the newest of these messages.
 */
messageIds?: Array<string>, };

export type PresenceUpdate = { 
/**
 * `online` or `away`.
 */
status: "online" | "away", };

export type BlockRequest = { 
/**
 * Another participant of the conversation.
 */
blockedUserId: string, };

export type BlockUser = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Another participant of the conversation.
 */
blockedUserId: string, };

export type MuteRequest = { 
/**
 * Until when (RFC 3339, in the future); absent or `null`: until unmuted.
 */
mutedUntil?: string, };

export type MuteConversation = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Until when (RFC 3339, in the future); absent or `null`: until unmuted.
 */
mutedUntil?: string, };

export type SocketPing = { 
/**
 * Echoed back as is.
 */
clientTime: unknown, };

export type AuthRefresh = { 
/**
 * The fresh token (same `sub`).
 */
token: string, };

export type HandshakeAuth = { 
/**
 * The token (preferred over `?token=`).
 */
token?: string, 
/**
 * The device id (else `?deviceId=`, else the server makes one).
 */
deviceId?: string, 
/**
 * Where the client stands, per conversation: `{conversationId: serverSequence}`.
 */
lastSequences?: { [key in string]: number }, };

export type CreateOneToOne = { 
/**
 * The other user.
 */
participantId: string, };

export type Message = { 
/**
 * The client's id for it.
 */
messageId: string, 
/**
 * Where.
 */
conversationId: string, 
/**
 * Who sent it.
 */
senderId: string, 
/**
 * The sender's display name, `null` when unknown.
 */
senderName: string | null, 
/**
 * The text.
 */
content: string, 
/**
 * When it was committed (RFC 3339).
 */
timestamp: string, 
/**
 * Its place in the conversation (from 1).
 */
serverSequence: number, 
/**
 * The participants, the sender excepted, whose read marker has reached it.
 */
readBy: Array<string>, };

export type DeliveryStatus = "delivered";

export type MessageReceived = { 
/**
 * The sending device.
 */
senderDeviceId: string, 
/**
 * The sending device's numbering, when it gave one.
 */
clientSequence?: number, 
/**
 * Always `delivered`.
 */
status: DeliveryStatus, 
/**
 * The client's id for it.
 */
messageId: string, 
/**
 * Where.
 */
conversationId: string, 
/**
 * Who sent it.
 */
senderId: string, 
/**
 * The sender's display name, `null` when unknown.
 */
senderName: string | null, 
/**
 * The text.
 */
content: string, 
/**
 * When it was committed (RFC 3339).
 */
timestamp: string, 
/**
 * Its place in the conversation (from 1).
 */
serverSequence: number, 
/**
 * The participants, the sender excepted, whose read marker has reached it.
 */
readBy: Array<string>, };

export type MessageDelivered = { 
/**
 * Which.
 */
messageId: string, 
/**
 * Where.
 */
conversationId: string, 
/**
 * Always `delivered`.
 */
status: DeliveryStatus, 
/**
 * Its place in the conversation.
 */
serverSequence: number, 
/**
 * When it was committed, epoch milliseconds.
 */
serverTimestamp: number, 
/**
 * When it was committed (RFC 3339).
 */
persistedAt: string, 
/**
 * Whether this answered a resend of a stored message.
 */
duplicate: boolean, };

export type ReadAck = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Your marker after the read (0: nothing read).
 */
lastReadSequence: number, 
/**
 * When your marker last moved, `null` if never.
 */
lastReadAt: string | null, 
/**
 * When this read was handled.
 */
updatedAt: string, 
/**
 * Messages still unread after it.
 */
newUnreadCount: number, };

export type UnreadCountUpdated = { 
/**
 * Which conversation.
 */
conversationId: string, 
/**
 * Messages others sent after the marker.
 */
unreadCount: number, 
/**
 * When computed.
 */
updatedAt: string, 
/**
 * When the marker last moved, `null` if never.
 */
lastReadAt: string | null, 
/**
 * The user's marker.
 */
lastReadSequence: number, 
/**
 * Whether the user muted the conversation.
 */
muted: boolean, };

export type ReadReceiptReceived = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Who read.
 */
userId: string, 
/**
 * When the marker moved, `null` if never.
 */
lastReadAt: string | null, 
/**
 * Up to which message.
 */
lastReadSequence: number, };

export type BlockResult = { 
/**
 * Always `true` (failures are errors).
 */
success: boolean, 
/**
 * Where.
 */
conversationId: string, 
/**
 * Whom.
 */
blockedUserId: string, 
/**
 * Since when the block stands (a block only: an unblock answers the same whether it lifted
 * one or none stood).
 */
blockedAt?: string, };

export type BlockEntry = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Whom.
 */
blockedUserId: string, 
/**
 * Since when.
 */
blockedAt: string, };

export type MuteChange = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Since when (a mute only).
 */
mutedAt?: string, 
/**
 * Until when (a mute with an expiry only).
 */
mutedUntil?: string, };

export type MuteResult = { 
/**
 * Always `true` (failures are errors).
 */
success: boolean, 
/**
 * Where.
 */
conversationId: string, 
/**
 * Since when (a mute only).
 */
mutedAt?: string, 
/**
 * Until when (a mute with an expiry only).
 */
mutedUntil?: string, };

export type MuteEntry = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Since when.
 */
mutedAt: string, 
/**
 * Until when; `null`: until unmuted.
 */
mutedUntil: string | null, };

export type ConversationType = "one_to_one" | "group";

export type Participant = { 
/**
 * Who.
 */
userId: string, 
/**
 * Display name, `null` when unknown.
 */
name: string | null, 
/**
 * Their role.
 */
role: MemberRole, 
/**
 * When they joined.
 */
joinedAt: string, };

export type Conversation = { 
/**
 * Which.
 */
conversationId: string, 
/**
 * What kind.
 */
type: ConversationType, 
/**
 * A group's title; `null` for a one-to-one.
 */
title: string | null, 
/**
 * How many members it has now.
 */
memberCount: number, 
/**
 * Its active participants (a group's members, owner first).
 */
participants: Array<Participant>, 
/**
 * When it was created.
 */
createdAt: string, };

export type History = { 
/**
 * Ascending by `serverSequence`.
 */
items: Array<Message>, 
/**
 * Whether more exist in the paging direction.
 */
hasMore: boolean, };

export type Presence = "online" | "away" | "offline";

export type ChatListParticipant = { 
/**
 * Who.
 */
userId: string, 
/**
 * Display name, `null` when unknown.
 */
name: string | null, 
/**
 * Their presence.
 */
presence: Presence, };

export type ChatListItem = { 
/**
 * Which.
 */
conversationId: string, 
/**
 * What kind.
 */
type: ConversationType, 
/**
 * Its participants, you included.
 */
participants: Array<ChatListParticipant>, 
/**
 * The newest message, `null` when none.
 */
lastMessage: Message | null, 
/**
 * Messages others sent after your read marker.
 */
unreadCount: number, 
/**
 * Whether you muted it.
 */
muted: boolean, 
/**
 * Whether you blocked someone in it.
 */
blockedByMe: boolean, 
/**
 * Whether someone in it blocked you.
 */
blockedMe: boolean, 
/**
 * Newest activity: the last message's time, else the creation time.
 */
updatedAt: string, };

export type ChatList = { 
/**
 * Newest activity first.
 */
items: Array<ChatListItem>, 
/**
 * How many conversations you are in.
 */
total: number, 
/**
 * The page size used.
 */
limit: number, 
/**
 * The offset used.
 */
offset: number, };

export type Connected = { 
/**
 * Who.
 */
userId: string, 
/**
 * The device (made by the server when the handshake named none).
 */
deviceId: string, 
/**
 * This connection.
 */
socketId: string, 
/**
 * Always `false`.
 */
resumed: boolean, 
/**
 * Unread messages per conversation.
 */
unreadCounts: { [key in string]: number }, 
/**
 * The server's clock, epoch milliseconds.
 */
serverTime: number, };

export type ResumeStatus = "resumed";

export type Reconnected = { 
/**
 * Always `resumed`.
 */
status: ResumeStatus, 
/**
 * Who.
 */
userId: string, 
/**
 * The device.
 */
deviceId: string, 
/**
 * This connection.
 */
socketId: string, 
/**
 * What was committed while the device was away, oldest first by (conversation,
 * `serverSequence`), at most 500.
 */
pendingMessages: Array<MessageReceived>, 
/**
 * Unread messages per conversation.
 */
unreadCounts: { [key in string]: number }, 
/**
 * Whether more than `pendingMessages` were missed (page REST history for the rest).
 */
hasMore: boolean, 
/**
 * The server's clock, epoch milliseconds.
 */
serverTime: number, };

export type TypingAck = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Started or stopped.
 */
isTyping: boolean, };

export type TypingIndicator = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Who.
 */
userId: string, 
/**
 * Started or cleared.
 */
isTyping: boolean, 
/**
 * When it clears by itself (starts only).
 */
expiresAt?: string, };

export type PresenceAck = { 
/**
 * Who.
 */
userId: string, 
/**
 * What this connection now says.
 */
status: Presence, };

export type PresenceChanged = { 
/**
 * Whose.
 */
userId: string, 
/**
 * The new aggregate.
 */
status: Presence, 
/**
 * When it changed.
 */
lastSeenAt: string, };

export type Pong = { 
/**
 * The ping's `clientTime`, as sent (`null` when absent).
 */
clientTime: unknown, 
/**
 * The server's clock, epoch milliseconds.
 */
serverTime: number, };

export type SyncHint = { 
/**
 * Conversation id → its newest `serverSequence`.
 */
lastSequences: { [key in string]: number }, };

export type AuthAck = { 
/**
 * Who (unchanged).
 */
userId: string, 
/**
 * When the new token expires.
 */
expiresAt: string, };

export type MemberRole = "owner" | "admin" | "member";

export type ConversationJoined = { 
/**
 * The conversation as it is now.
 */
conversation: Conversation, 
/**
 * The change that made you a member.
 */
changeSequence: number, };

export type ConversationLeft = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Who removed you (yourself when leaving).
 */
removedBy: string, 
/**
 * The change that removed you.
 */
changeSequence: number, };

export type MemberAdded = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Who joined.
 */
userIds: Array<string>, 
/**
 * Who added them.
 */
addedBy: string, 
/**
 * This change.
 */
changeSequence: number, };

export type MemberRemoved = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Who left.
 */
userId: string, 
/**
 * Who removed them.
 */
removedBy: string, 
/**
 * This change.
 */
changeSequence: number, };

export type MemberRoleChanged = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * Whose role.
 */
userId: string, 
/**
 * The new role.
 */
role: MemberRole, 
/**
 * Who changed it (the one who left, when ownership passed on).
 */
changedBy: string, 
/**
 * This change.
 */
changeSequence: number, };

export type ConversationUpdated = { 
/**
 * Where.
 */
conversationId: string, 
/**
 * The new title.
 */
title: string, 
/**
 * Who changed it.
 */
updatedBy: string, 
/**
 * This change.
 */
changeSequence: number, };

export type ConversationCreated = { 
/**
 * Which.
 */
conversationId: string, 
/**
 * What kind.
 */
type: ConversationType, 
/**
 * A group's title; `null` for a one-to-one.
 */
title: string | null, 
/**
 * Who created it (`null` for one-to-ones older than the change log).
 */
createdBy: string | null, 
/**
 * The first members, the creator included.
 */
memberIds: Array<string>, };

export type ChangeData = MessageReceived | ConversationCreated | ConversationUpdated | MemberAdded | MemberRemoved | MemberRoleChanged;

export type ChangeKindName = "message" | "edit" | "delete" | "reaction" | "member" | "conversation";

export type ChangeItem = { 
/**
 * The conversation (in `pendingChanges` only).
 */
conversationId?: string, 
/**
 * Its place in the conversation's log.
 */
changeSequence: number, 
/**
 * What changed.
 */
kind: ChangeKindName, 
/**
 * When it was committed.
 */
at: string, 
/**
 * The payload of that change's live event.
 */
data: ChangeData, };

export type Changes = { 
/**
 * Ascending by `changeSequence`; the numbering may jump (changes outside your windows).
 */
items: Array<ChangeItem>, 
/**
 * Whether more follow.
 */
hasMore: boolean, 
/**
 * The newest change you may know of (the end of your last window once removed).
 */
lastChangeSequence: number, };

export type Member = { 
/**
 * Who.
 */
userId: string, 
/**
 * Display name, `null` when unknown.
 */
name: string | null, 
/**
 * Their role.
 */
role: MemberRole, 
/**
 * When their current membership began.
 */
joinedAt: string, 
/**
 * Their presence (at any group size).
 */
presence: Presence, };

export type MemberPage = { 
/**
 * Owner first, then by `joinedAt`.
 */
items: Array<Member>, 
/**
 * How many members the conversation has.
 */
total: number, 
/**
 * The page size used.
 */
limit: number, 
/**
 * The offset used.
 */
offset: number, };

export type MembersAddedAnswer = { 
/**
 * Who was added.
 */
added: Array<string>, 
/**
 * Who already was a member.
 */
alreadyMembers: Array<string>, };

