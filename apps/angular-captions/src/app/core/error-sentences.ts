import type { ErrorCode } from './generated/error';

const MICROPHONE_AUDIO = 'Your microphone’s audio could not be used: reload the page, or try another browser.';
const OUT_OF_DATE = 'This page is out of date: reload it to go on.';

/**
 * What every code the server (or its edge) can send means to the person reading it. One table for every page,
 * typed by the protocol's code list, so a code added on the server does not compile here until it has a sentence.
 */
export const ERROR_SENTENCES: Readonly<Record<ErrorCode, string>> = {
  unknown_room: 'There is no such room: check the link, or create a new room.',
  bad_key: 'This presenter key is not the key of this room.',
  private_room: 'This room is private: open it with the full link you were given.',
  bad_auth: 'This link is incomplete: open it again from the share link or QR code.',
  too_many_connections: 'Too many connections from your network right now. Trying again shortly…',
  closed: 'The connection dropped while it opened. Trying again…',
  not_connected: 'Not connected yet: wait a moment and try again.',
  unknown_event: OUT_OF_DATE,
  bad_payload: 'The server could not read what this page sent: reload the page.',
  forbidden: 'Only the room’s presenter can do that.',
  rate_limited: 'Too much at once: wait a moment and try again.',
  too_many_refusals: 'The server closed this connection after too many refused requests: reload the page.',
  internal_error: 'The server could not do that. Try again; if it keeps happening, tell the event’s organizer.',
  capacity: 'The server is captioning as many talks as it can: try starting again in a minute.',
  too_many_live_rooms: 'You have as many live talks here as allowed: stop one first.',
  presenter_replaced: 'This room is being presented from another device or tab now.',
  credentials_rotated: 'This room’s link was replaced: open the new one.',
  room_deleted: 'This room was deleted.',
  resend: 'Sending again the audio the server missed…',
  frame_too_large: MICROPHONE_AUDIO,
  frame_too_short: MICROPHONE_AUDIO,
  bad_frame_length: MICROPHONE_AUDIO,
  unreadable_audio: MICROPHONE_AUDIO,
  seq_jump: 'Some audio was lost on the way: reload the page to go on.',
  unknown_caption: 'That caption can no longer be corrected.',
  bad_range: 'That correction spans too many captions: correct a shorter part.',
  audio_quota: 'This room has used all its captioning time for today; it refills over the next hours.',
  storage_quota: 'Your organizer account’s rooms are full: delete rooms you no longer need, then start again.',
  session_full: 'This talk has as many captions as one talk may have: stop it and start a new one.',
  room_full: 'This room keeps as many talks as it may: create a new room, or delete this one.',
  invalid_request: 'Some details are missing or not valid: check them and try again.',
  not_found: 'Not found: check the link.',
  unknown_session: 'That talk’s transcript is not here.',
  no_session_yet: 'There is no transcript yet: this room has not been live.',
  method_not_allowed: OUT_OF_DATE,
  bad_request: 'The server could not understand this page’s request: reload the page.',
  untrusted_host: 'This server does not answer at this address: open it from its usual address.',
  public_room: 'This room is public: it has no viewer link to replace.',
  organizer_required: 'This server creates rooms for its organizers only: enter your organizer token.',
  bad_organizer_token: 'That organizer token is not valid here (mistyped, or revoked): ask the server’s operator for yours.',
  unauthorized: 'You are not allowed to see this.',
  nothing_to_rotate: 'There is nothing to replace.',
  recognizer_not_configured: 'That speech recogniser is not set up on this server: choose another.',
  unsupported_language: 'This server does not caption that language: choose another.',
  body_too_large: 'That is too large to send.',
  websocket_required:
    'Your browser or network does not allow live connections (WebSocket): try another network or browser.',
  unavailable: 'The captions service is restarting. Trying again shortly…',
  too_many_destinations: 'This room cannot send its captions to that many places: remove one first.',
  destination_refused:
    'The server may not send captions there (a private or unknown address): check the URL or host.',
};

/** The sentence for an error; a code this page does not know (a newer server) still says something useful. */
export function describeError(error: { readonly code: string; readonly message?: string }): string {
  const sentence = (ERROR_SENTENCES as Readonly<Record<string, string>>)[error.code];
  return sentence ?? `Something went wrong (${error.code}). Reload the page, or try again later.`;
}
