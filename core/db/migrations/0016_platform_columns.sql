-- The word "channel" means a chat channel (a Slack or Mattermost channel, a Discord text channel);
-- the platform a message came from or goes to (local, mattermost, slack, discord, telegram,
-- github) is its "platform". These columns, and the envelopes and outbound messages stored as
-- JSON, said "channel" for the platform: renamed, stored rows included, so a message recorded
-- before the upgrade is delivered after it.

ALTER TABLE inbound_messages RENAME COLUMN channel TO platform;
ALTER TABLE outbox RENAME COLUMN channel TO platform;
ALTER TABLE approvals RENAME COLUMN channel TO platform;
ALTER TABLE infra_jobs RENAME COLUMN channel TO platform;
ALTER TABLE work_items RENAME COLUMN origin_channel TO origin_platform;

UPDATE inbound_messages SET payload = (payload - 'channel') || jsonb_build_object('platform', payload -> 'channel')
 WHERE jsonb_typeof(payload) = 'object' AND payload ? 'channel' AND NOT payload ? 'platform';
UPDATE outbox SET payload = (payload - 'channel') || jsonb_build_object('platform', payload -> 'channel')
 WHERE jsonb_typeof(payload) = 'object' AND payload ? 'channel' AND NOT payload ? 'platform';
