-- Customer search by phone suffix (the last four digits store staff ask for) without scanning
-- every phone; the index is on the same expression the search uses, on both engines. (Prefix
-- and exact identity searches use customer_identities_value from 0002.)
CREATE INDEX customer_identities_phone_last4 ON customer_identities (substr(value, length(value) - 3))
  WHERE kind = 'phone';
