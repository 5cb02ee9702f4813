-- Upload quotas count one uploader's unfinished uploads and the claims they
-- started in the last day; without these a count would read every row.
CREATE INDEX uploads_by_uploader ON uploads (uploader, created_at);
CREATE INDEX proofs_by_uploader ON proofs (uploader, received_at);
