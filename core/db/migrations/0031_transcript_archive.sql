-- A thread's messages that have left its checkpoint: folded into the thread's rolling summary
-- (or before a /new) and posted. The checkpoint keeps only the window models are still sent, so
-- a step's save stays the same size however long the thread grows; the rest of the transcript
-- lives here, once, for the console's tool results and for audit. `seq` is the message's place
-- in the whole thread (0 = its first message); retention removes a finished thread's rows with
-- its other transcripts (retention.transcriptDays).
CREATE TABLE IF NOT EXISTS transcript_archive (
  thread_id text NOT NULL,
  seq integer NOT NULL,
  message jsonb NOT NULL,
  tool_call_id text,
  archived_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (thread_id, seq)
);
CREATE INDEX IF NOT EXISTS transcript_archive_tool_call_idx ON transcript_archive (thread_id, tool_call_id) WHERE tool_call_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS transcript_archive_archived_at_idx ON transcript_archive (archived_at);
