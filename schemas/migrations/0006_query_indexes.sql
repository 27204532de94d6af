-- Indexes for the GraphQL lists: each serves a keyset page (tenant, sort column, id) without a
-- sort. Lists sorted by dates or budget sort one tenant's rows, which stays cheap at the
-- thousands of campaigns a tenant has; every extra index also slows the projector's writes.
CREATE INDEX campaigns_by_created ON campaigns (tenant_id, created_at, campaign_id);
CREATE INDEX campaigns_by_name ON campaigns (tenant_id, name, campaign_id);
CREATE INDEX campaigns_by_status ON campaigns (tenant_id, status, created_at, campaign_id);
CREATE INDEX audiences_by_created ON audiences (tenant_id, created_at, audience_id);
CREATE INDEX account_lists_by_audience ON account_lists (tenant_id, audience_id);
