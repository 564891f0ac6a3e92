/**
 * The hash behind fingerprints (core/fingerprint.ts): sha256, cut to 16 hex
 * digits. Short because state.json holds one per setting per task; 64 bits
 * are plenty to tell one version of a prompt from the next.
 */
import { createHash } from 'node:crypto';
import type { Hash } from '../core/fingerprint.js';

export const digest: Hash = (text) => createHash('sha256').update(text).digest('hex').slice(0, 16);
