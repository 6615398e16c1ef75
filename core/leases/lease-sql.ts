/**
 * The statements of the `leases` table (core/leases/pg-leases.ts). Besides a row per connection,
 * each replica that holds leases keeps a presence row, `replica:<owner>`, renewed like a lease:
 * the live ones say how many replicas share the connections, so each takes its share.
 */

/** The presence rows' prefix; `owned` counts and shares leave them out. */
const PRESENCE = 'replica:';

/**
 * Takes `$1` for `$2` when it is free, expired or already ours, and (unless `$5`, forced) this
 * replica owns fewer than its share of the lease's group `$6` (`mattermost:socket` for
 * `mattermost:socket:athena`): the group's `$4` connections over the live replicas, rounded up.
 * A change of owner increments the token. Answers the token when taken, the previous owner, and whether
 * the lease was free (so a free lease nobody under its share takes is forced after a while).
 */
export const ACQUIRE = `
WITH prev AS (SELECT owner, expires_at <= now() AS free FROM leases WHERE name = $1),
mine AS (SELECT count(*) AS n FROM leases WHERE owner = $2 AND name <> $1 AND expires_at > now() AND left(name, length($6) + 1) = $6 || ':'),
replicas AS (SELECT greatest(1, count(*)) AS n FROM leases WHERE name LIKE '${PRESENCE}%' AND expires_at > now()),
allowed AS (SELECT $5::boolean OR (SELECT n FROM mine) < ceil($4::float8 / (SELECT n FROM replicas)) AS ok),
taken AS (
  INSERT INTO leases AS l (name, owner, token, expires_at)
  SELECT $1, $2, 1, now() + make_interval(secs => $3::float8 / 1000) FROM allowed WHERE ok
  ON CONFLICT (name) DO UPDATE SET
    owner = EXCLUDED.owner,
    token = CASE WHEN l.owner = EXCLUDED.owner THEN l.token ELSE l.token + 1 END,
    acquired_at = CASE WHEN l.owner = EXCLUDED.owner THEN l.acquired_at ELSE now() END,
    expires_at = EXCLUDED.expires_at
  WHERE l.owner = EXCLUDED.owner OR l.expires_at <= now()
  RETURNING l.token::text AS token)
SELECT (SELECT token FROM taken) AS token, (SELECT owner FROM prev) AS previous, coalesce((SELECT free FROM prev), true) AS free`;

export const RENEW = `UPDATE leases SET expires_at = now() + make_interval(secs => $4::float8 / 1000) WHERE name = $1 AND owner = $2 AND token = $3`;

/** Expired at once, and said on the `pantheon_leases` channel so a waiting replica tries at once. */
export const RELEASE = `WITH released AS (UPDATE leases SET expires_at = now() - interval '1 millisecond' WHERE name = $1 AND owner = $2 AND token = $3 RETURNING name)
SELECT pg_notify('pantheon_leases', name) FROM released`;

/**
 * This replica is alive for `$2` ms more; answers how many live replicas there are, itself
 * included. Presence rows of replicas gone for an hour are deleted on the way.
 */
export const PRESENT = `
WITH me AS (
  INSERT INTO leases (name, owner, token, expires_at) VALUES ('${PRESENCE}' || $1, $1, 0, now() + make_interval(secs => $2::float8 / 1000))
  ON CONFLICT (name) DO UPDATE SET expires_at = EXCLUDED.expires_at RETURNING 1),
gone AS (DELETE FROM leases WHERE name LIKE '${PRESENCE}%' AND expires_at < now() - interval '1 hour')
SELECT 1 + count(*)::int AS replicas FROM leases WHERE name LIKE '${PRESENCE}%' AND expires_at > now() AND owner <> $1`;

/** Leaving: the other replicas' shares grow at once. */
export const ABSENT = `DELETE FROM leases WHERE name = '${PRESENCE}' || $1`;

export const CHANNEL = 'pantheon_leases';
