import { randomInt } from 'node:crypto';

export { APPROVAL_ID_PATTERN, normaliseApprovalId } from '../../core/chat/approvals.js';

/**
 * Approval ids are typed by people, often on a phone: short, lowercase, and without the
 * characters that look alike (0/o, 1/l/i). 31^5 ≈ 28 million ids; a clash with an existing
 * row is retried by the store. What a typed id may look like is `APPROVAL_ID_PATTERN`.
 */
const APPROVAL_ID_ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';
const APPROVAL_ID_LENGTH = 5;

export function newApprovalId(length = APPROVAL_ID_LENGTH): string {
  let id = '';
  for (let i = 0; i < length; i++) id += APPROVAL_ID_ALPHABET[randomInt(APPROVAL_ID_ALPHABET.length)];
  return id;
}
