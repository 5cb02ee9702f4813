-- The upload a proof was made from. A client whose completing request was
-- answered but never heard the answer (the connection dropped, the page was
-- reloaded) asks about the upload again: it is told the upload is complete,
-- instead of being told it is unknown and sending the whole file again.
ALTER TABLE proofs ADD COLUMN upload_id TEXT;
CREATE UNIQUE INDEX proofs_upload ON proofs (upload_id);
