/**
 * The time, as Bearing reads it: one narrow type, handed to whatever reads
 * the time (the run and what it creates, the lock, the inbox), so a test
 * steps time by passing its own clock instead of patching `Date`.
 *
 * It lives in core because every layer shares it, ui included. Core's own
 * functions never call a clock: they take `now: Date` as data, and the real
 * clock below is called only at the edges, as the default where none is
 * given.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
