/**
 * What a platform can do, as its contract test declares it. A capability the platform lacks is
 * not skipped: it is declared missing with the reason, and the suites then check what the
 * adapter does instead (and the test's name says so).
 */
export type Capability = true | { missing: string };

export function missing(capability: Capability): string | undefined {
  return capability === true ? undefined : capability.missing;
}
