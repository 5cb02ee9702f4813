-- Videos inspected before browsers' live-written recordings (fragmented MP4,
-- WebM) were measured from their own fragments may hold a duration that is
-- only the part ffprobe analysed. One job reads them all again, a batch a run
-- (proofs.correct_durations, its subject the last proof id done); it is
-- queued only where there are inspected videos. The columns and key follow
-- what the services queue (jobs::enqueue, Job::about): key "<kind>:<subject>",
-- payload {"subject": …}, five attempts.
INSERT INTO jobs (kind, dedupe_key, payload, state, run_at, attempts, max_attempts,
                  created_at, updated_at)
SELECT 'proofs.correct_durations', 'proofs.correct_durations:0', '{"subject":0}', 'queued',
       now_ms, 0, 5, now_ms, now_ms
FROM (SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) AS now_ms) AS clock
WHERE EXISTS (SELECT 1 FROM proofs WHERE media_type LIKE 'video/%' AND probed_at IS NOT NULL)
ON CONFLICT DO NOTHING;
