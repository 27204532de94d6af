-- The last day whose search terms the report sync reviewed for negative keywords: the report is
-- read once a day per campaign, not at every hourly pull (it is a heavy query against a quota).
ALTER TABLE report_sync_state ADD COLUMN IF NOT EXISTS search_terms_reviewed_through date;
