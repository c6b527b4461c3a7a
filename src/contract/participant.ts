import { apiError } from './interaction-errors.ts';
import { isJsonObject } from './json-body.ts';

export const APP_TYPES = ['custom', 'agent', 'chatbot', 'conversation', 'live_message', 'iamessage'] as const;
export const PARTICIPANT_ROLES = ['EndUser', 'Chatbot', 'Agent', 'Supervisor', 'System'] as const;

/** A participant of a conversation as the contract names one: who (subject), in which role, through which app. */
export interface Participant {
  appType: (typeof APP_TYPES)[number];
  subject: string;
  role: (typeof PARTICIPANT_ROLES)[number];
}

/** Reads a Participant object at `where` (e.g. "sender", "participants[0]"). */
export function participantOf(value: unknown, where: string): Participant {
  if (!isJsonObject(value)) throw apiError('MissingParticipant', { where });
  const { appType, subject, role } = value;
  if (!APP_TYPES.includes(appType as never)) throw apiError('InvalidAppType', { where, allowed: APP_TYPES, value: appType });
  if (!PARTICIPANT_ROLES.includes(role as never)) {
    throw apiError('InvalidParticipantRole', { where, allowed: PARTICIPANT_ROLES, value: role });
  }
  if (typeof subject !== 'string' || subject.trim() === '' || subject.length > 255) throw apiError('InvalidParticipantSubject', { where });
  return { appType: appType as Participant['appType'], subject, role: role as Participant['role'] };
}
