/**
 * Recognising usage and rate limits from text. The CLIs' wording drifts
 * between versions, so this is the fallback after structured fields
 * (claude `rate_limit_event`, `api_error_status`); every pattern below is a
 * message users reported verbatim (see tests/fixtures/reference/README.md).
 */

const USAGE_LIMIT_PATTERNS: readonly RegExp[] = [
  // claude, old: `Claude AI usage limit reached|<epoch>` (cc#2087)
  /Claude AI usage limit reached/i,
  // claude: `5-hour limit reached ∙ resets 2am` (cc#7157)
  /\b\d+-hour limit reached\b/i,
  // claude: `You've hit your limit · resets 1pm (…)`, `You've hit your session limit · …`;
  // codex: `You've hit your usage limit… Try again at 3:28 PM`
  /\bYou[’']ve hit your (?:\w+ )?limit\b/i,
  // claude: `You're out of extra usage · resets 4pm (America/Chicago)`
  /\bout of extra usage\b/i,
  // codex: `Quota exceeded. Check your plan and billing details.`
  /\bQuota exceeded\b/i,
  // codex: `exceeded retry limit, last status: 429 Too Many Requests` (cx#10550)
  /\bexceeded retry limit, last status: 429\b/i,
];

/** Whether `text` says a usage or rate limit was hit. */
export function isUsageLimitText(text: string): boolean {
  return USAGE_LIMIT_PATTERNS.some((re) => re.test(text));
}

/**
 * The reset time carried by the old claude `…usage limit reached|<epoch>`
 * form, as ISO. Other wordings give a wall-clock time without a date or
 * zone (`resets 2am`, `Try again at 3:28 PM`) that a pure parser cannot place,
 * so they yield undefined and the caller backs off instead.
 */
export function resetsAtFromText(text: string): string | undefined {
  const m = /usage limit reached\|(\d{9,13})/i.exec(text);
  return m?.[1] === undefined ? undefined : epochToIso(Number(m[1]));
}

/** Epoch seconds (or milliseconds, when that large) to ISO; undefined when not a sane time. */
export function epochToIso(epoch: number): string | undefined {
  if (!Number.isFinite(epoch) || epoch <= 0) return undefined;
  const ms = epoch < 1e12 ? epoch * 1000 : epoch;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** An HTTP status mentioned in an API error text (`unexpected status 401`, `last status: 429`). */
export function statusFromText(text: string): number | undefined {
  const m = /\b(?:unexpected status|last status:?|status)\s+(\d{3})\b/i.exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * Whether `text` says the API could not be reached at all. Wordings seen from
 * the real CLIs (reference README): claude `API Error: Unable to connect to
 * API (ConnectionRefused)`; codex `Reconnecting... waiting for network
 * (Connection failed: error sending request)` and `stream disconnected
 * before completion: ...`.
 */
export function isConnectionText(text: string): boolean {
  return /\bUnable to connect to API\b|\bConnection ?Refused\b|\bConnection failed\b|\berror sending request\b|\bwaiting for network\b|\bstream disconnected before completion\b|\bECONNREFUSED\b|\bETIMEDOUT\b/i.test(
    text,
  );
}
