// TEMPORARY until helper B's process-layer branch is merged.
export function processStartTime(_pid: number): string | undefined {
  return undefined;
}
export async function endStrayProcesses(
  _records: { pgid?: number; startTime?: string; token?: string }[],
  _graceMs: number,
): Promise<{ ended: number }> {
  return { ended: 0 };
}
