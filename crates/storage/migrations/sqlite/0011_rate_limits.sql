-- Rate limits count attempts per kind of action (sign-in, code request,
-- order tracking), so one kind cannot use up another's allowance, and per
-- subject and client address together, so a stranger's failures do not lock
-- an account for everyone. The address is a keyed hash, never in clear.
ALTER TABLE sign_in_attempts ADD COLUMN kind TEXT NOT NULL DEFAULT 'sign_in';
ALTER TABLE sign_in_attempts ADD COLUMN address_hash TEXT;
CREATE INDEX sign_in_attempts_address ON sign_in_attempts (address_hash, at);
-- Wrong tries at one-time codes are summed per phone or email over a day,
-- across all its codes.
CREATE INDEX phone_verifications_created ON phone_verifications (phone_index, created_at);
CREATE INDEX request_codes_created ON request_codes (address_index, created_at);
