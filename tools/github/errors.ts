/** What GitHub said went wrong, as a sentence the model (and a human reading the audit) can act on. */
function describeGitHubError(err: unknown, action: string): Error {
  const e = err as { status?: number; message?: string; response?: { data?: { message?: string; errors?: unknown[] } } };
  if (typeof e?.status !== 'number') return err instanceof Error ? err : new Error(String(err));
  const said = e.response?.data?.message ?? e.message ?? '';
  const details = (e.response?.data?.errors ?? [])
    .map((d) =>
      typeof d === 'string' ? d : ((d as { message?: string; field?: string; code?: string }).message ?? `${(d as { field?: string }).field ?? ''} ${(d as { code?: string }).code ?? ''}`.trim()),
    )
    .filter(Boolean)
    .join('; ');
  const hint = HINTS[e.status] ?? '';
  return new Error(`GitHub refused to ${action} (${e.status}${said ? `: ${said}` : ''}${details ? ` — ${details}` : ''}).${hint ? ` ${hint}` : ''}`);
}

const HINTS: Record<number, string> = {
  401: 'Your GitHub token was not accepted: a human needs to renew github.token in your persona file.',
  403: 'Your GitHub account lacks the permission for this, or hit a rate limit: ask a human to grant access, or try later.',
  404: 'Check the repository and number; or your account cannot see that repository.',
  409: 'The repository is in a state that prevents this (e.g. the branch moved): refresh and retry.',
  422: 'GitHub did not accept the request as given: check the names, branch and numbers.',
};

/** Runs a GitHub call, turning GitHub's error into a clear message. */
export async function onGitHub<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw describeGitHubError(err, action);
  }
}
