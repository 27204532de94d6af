-- Campaigns name their account currency (CampaignCreated v2); older campaigns were all USD.
ALTER TABLE campaigns ADD COLUMN currency text NOT NULL DEFAULT 'USD';
