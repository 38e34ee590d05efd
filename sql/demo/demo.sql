-- Demo data for `bash service/demo.sh`: organisation `demo`, a few segments and
-- campaigns and their risks, and two years of completed campaigns with their
-- measurements and targets. Idempotent: loading it twice changes nothing.
INSERT INTO organisations (id, name) VALUES ('demo', 'Demo Marketing') ON CONFLICT (id) DO NOTHING;
DO $$ BEGIN PERFORM set_config('campaignd.actor', 'demo-loader', false), set_config('campaignd.role', 'admin', false); END $$;

INSERT INTO segments (id, org_id, name, description, estimated_size) VALUES
  ('00000000-0000-4000-8000-000000000001', 'demo', 'Customers', 'Bought in the last 24 months', 48000),
  ('00000000-0000-4000-8000-000000000002', 'demo', 'Prospects', 'Newsletter subscribers who never bought', 120000),
  ('00000000-0000-4000-8000-000000000003', 'demo', 'Lapsed customers', 'No purchase for 12 months', 9000)
ON CONFLICT (id) DO NOTHING;
UPDATE segments SET parent_id = '00000000-0000-4000-8000-000000000001'
  WHERE id = '00000000-0000-4000-8000-000000000003' AND parent_id IS NULL;

INSERT INTO campaigns (id, org_id, name, objective, start_date, end_date, budget_amount, budget_currency, owner,
                       team, channels, tags, created_by) VALUES
  ('00000000-0000-4000-8000-000000000101', 'demo', 'Spring sale', 'acquisition', '2027-03-01', '2027-03-31',
   12500, 'EUR', 'demo-planner', 'Growth', '{email,social}', '{q1}', 'demo-planner'),
  ('00000000-0000-4000-8000-000000000102', 'demo', 'Win-back', 'retention', '2027-03-15', '2027-04-15',
   4000, 'EUR', 'demo-planner', 'CRM', '{email}', '{crm}', 'demo-planner'),
  ('00000000-0000-4000-8000-000000000103', 'demo', 'Product launch', 'launch', '2027-05-01', '2027-05-31',
   30000, 'EUR', 'demo-manager', 'Brand', '{display,social,email}', '{launch}', 'demo-manager')
ON CONFLICT (id) DO NOTHING;

INSERT INTO campaign_segments (org_id, campaign_id, segment_id, position) VALUES
  ('demo', '00000000-0000-4000-8000-000000000101', '00000000-0000-4000-8000-000000000002', 1),
  ('demo', '00000000-0000-4000-8000-000000000102', '00000000-0000-4000-8000-000000000003', 1),
  ('demo', '00000000-0000-4000-8000-000000000103', '00000000-0000-4000-8000-000000000001', 1)
ON CONFLICT DO NOTHING;

INSERT INTO resources (id, org_id, kind, name, capacity, capacity_unit, cost_amount, cost_currency, skills) VALUES
  ('00000000-0000-4000-8000-000000000201', 'demo', 'slot', 'Homepage banner', 1, 'concurrent', 250, 'EUR', '{}'),
  ('00000000-0000-4000-8000-000000000202', 'demo', 'channel', 'Newsletter', 2, 'sends_per_day', 40, 'EUR', '{}'),
  ('00000000-0000-4000-8000-000000000203', 'demo', 'person', 'Copywriter', 40, 'hours_per_week', 65, 'EUR',
   '{copywriting,seo}')
ON CONFLICT (id) DO NOTHING;

INSERT INTO availability (id, org_id, resource_id, kind, period, note, created_by) VALUES
  ('00000000-0000-4000-8000-000000000301', 'demo', '00000000-0000-4000-8000-000000000203', 'leave',
   '[2027-04-05 00:00Z, 2027-04-10 00:00Z)', 'Spring holiday', 'demo-manager')
ON CONFLICT (id) DO NOTHING;

INSERT INTO bookings (id, org_id, campaign_id, resource_id, period, quantity, status, created_by) VALUES
  ('00000000-0000-4000-8000-000000000401', 'demo', '00000000-0000-4000-8000-000000000101',
   '00000000-0000-4000-8000-000000000201', '[2027-03-01 08:00Z, 2027-03-08 08:00Z)', 1, 'confirmed', 'demo-planner'),
  ('00000000-0000-4000-8000-000000000402', 'demo', '00000000-0000-4000-8000-000000000101',
   '00000000-0000-4000-8000-000000000202', '[2027-03-02 08:00Z, 2027-03-02 09:00Z)', 1, 'confirmed', 'demo-planner'),
  ('00000000-0000-4000-8000-000000000403', 'demo', '00000000-0000-4000-8000-000000000102',
   '00000000-0000-4000-8000-000000000203', '[2027-03-15 09:00Z, 2027-03-15 17:00Z)', 8, 'tentative', 'demo-planner')
ON CONFLICT (id) DO NOTHING;

INSERT INTO key_events (id, org_id, name, kind, start_date, end_date, description) VALUES
  ('00000000-0000-4000-8000-000000000501', 'demo', 'Spring trade fair', 'industry_event', '2027-03-17', '2027-03-19',
   'Stand B12; no launches that week'),
  ('00000000-0000-4000-8000-000000000502', 'demo', 'Easter', 'holiday', '2027-03-28', '2027-03-29', NULL),
  ('00000000-0000-4000-8000-000000000503', 'demo', 'Black Friday', 'sales_period', '2027-11-26', '2027-11-29', NULL)
ON CONFLICT (id) DO NOTHING;

INSERT INTO workflows (id, org_id, name, description, steps, created_by) VALUES
  ('00000000-0000-4000-8000-000000000601', 'demo', 'Creative brief',
   'Project lead, then communication lead, then marketing director',
   '[{"name": "Project lead", "role": "manager", "approver_sub": null},
     {"name": "Communication lead", "role": "approver", "approver_sub": null},
     {"name": "Marketing director", "role": "admin", "approver_sub": null}]', 'demo-admin')
ON CONFLICT (id) DO NOTHING;

INSERT INTO risks (id, org_id, campaign_id, title, category, probability, impact, mitigation, owner, status, due_date,
                   created_by) VALUES
  ('00000000-0000-4000-8000-000000000901', 'demo', '00000000-0000-4000-8000-000000000103',
   'Checkout fails under launch traffic', 'technical', 3, 5, 'Load-test the checkout before the official launch',
   'demo-manager', 'open', '2027-04-20', 'demo-manager'),
  ('00000000-0000-4000-8000-000000000902', 'demo', '00000000-0000-4000-8000-000000000103',
   'Negative reactions to the launch film', 'reputation', 2, 4,
   'Watch social media and answer complaints quickly', 'demo-manager', 'open', NULL, 'demo-manager'),
  ('00000000-0000-4000-8000-000000000903', 'demo', '00000000-0000-4000-8000-000000000101',
   'New consent rules for email marketing', 'regulatory', 2, 3, NULL, 'demo-planner', 'open', '2027-02-15',
   'demo-planner'),
  ('00000000-0000-4000-8000-000000000904', 'demo', '00000000-0000-4000-8000-000000000101',
   'Discount eats the margin', 'budget', 1, 3, NULL, 'demo-planner', 'accepted', NULL, 'demo-planner')
ON CONFLICT (id) DO NOTHING;

-- A few real conflicts for GET /v1/conflicts?from=2027-03-01&to=2027-06-01: a flash sale to the Spring sale's
-- prospects in its first week, with the same offer code on other terms and a third newsletter send to them
-- within 7 days (audience_overlap, contradictory_offer, channel_saturation; the flash sale, scored lower, is the
-- one to move), and a blackout key event in the product launch's first week (blackout).
UPDATE campaigns SET has_offer = true, offer_code = 'SPRING', offer_terms = '20 % off everything',
       score_engagement = 8, score_cpa = 7, score_experience = 7, score_alignment = 9
 WHERE id = '00000000-0000-4000-8000-000000000101' AND NOT has_offer;
INSERT INTO campaigns (id, org_id, name, objective, start_date, end_date, budget_amount, budget_currency, owner,
                       team, channels, tags, has_offer, offer_code, offer_terms, score_engagement, score_cpa,
                       score_experience, score_alignment, created_by) VALUES
  ('00000000-0000-4000-8000-000000000104', 'demo', 'Spring flash sale', 'conversion', '2027-03-04', '2027-03-06',
   1500, 'EUR', 'demo-planner', 'Social', '{email,social}', '{q1}', true, 'SPRING', '15 % on a selection',
   5, 6, 4, 5, 'demo-planner')
ON CONFLICT (id) DO NOTHING;
INSERT INTO campaign_segments (org_id, campaign_id, segment_id, position) VALUES
  ('demo', '00000000-0000-4000-8000-000000000104', '00000000-0000-4000-8000-000000000002', 1)
ON CONFLICT DO NOTHING;
INSERT INTO bookings (id, org_id, campaign_id, resource_id, segment_id, period, quantity, status, created_by) VALUES
  ('00000000-0000-4000-8000-000000000404', 'demo', '00000000-0000-4000-8000-000000000101',
   '00000000-0000-4000-8000-000000000202', '00000000-0000-4000-8000-000000000002',
   '[2027-03-03 08:00Z, 2027-03-03 09:00Z)', 1, 'confirmed', 'demo-planner'),
  ('00000000-0000-4000-8000-000000000405', 'demo', '00000000-0000-4000-8000-000000000104',
   '00000000-0000-4000-8000-000000000202', '00000000-0000-4000-8000-000000000002',
   '[2027-03-05 08:00Z, 2027-03-05 09:00Z)', 1, 'tentative', 'demo-planner')
ON CONFLICT (id) DO NOTHING;
UPDATE bookings SET segment_id = '00000000-0000-4000-8000-000000000002'
 WHERE id = '00000000-0000-4000-8000-000000000402' AND segment_id IS NULL;
INSERT INTO key_events (id, org_id, name, kind, start_date, end_date, description) VALUES
  ('00000000-0000-4000-8000-000000000504', 'demo', 'Annual results quiet period', 'blackout', '2027-05-03',
   '2027-05-05', 'No announcements until the results are out')
ON CONFLICT (id) DO NOTHING;

-- Two years of history: 24 completed campaigns from October 2024 to September 2026 across the demo's channels
-- (email, google_ads, social, influence), each with its channel budgets, daily measurements as the CRM and the
-- emailing tool pushed them, and targets, so the dashboards (and the forecasts) have something real to read.
-- Deterministic: each channel answers spend with diminishing returns (leads = a · spend^0.85 a day), and a
-- fixed wobble (sines of the day and the campaign) stands in for noise.
CREATE TEMP TABLE demo_channels (channel text PRIMARY KEY, budget numeric, lead_factor numeric, conv_rate numeric,
                                 order_value numeric, cost_per_click numeric, impressions_per_click numeric);
INSERT INTO demo_channels VALUES
  ('google_ads', 12000, 0.0257, 0.12,  900, 1.10, 33),
  ('influence',  11000, 0.0110, 0.08, 2000, 2.40, 85),
  ('email',       2400, 0.0770, 0.20,  400, 0.15, 0),
  ('social',      4800, 0.0360, 0.10,  700, 0.70, 110);

CREATE TEMP TABLE demo_history AS
SELECT k,
       ('00000000-0000-4000-8000-0000000010' || lpad(k::text, 2, '0'))::uuid AS id,
       (DATE '2024-10-01' + make_interval(months => k) + make_interval(days => (k % 3) * 5))::date AS start_date,
       21 + (k % 4) * 7 AS days,
       (ARRAY['acquisition', 'conversion', 'retention', 'awareness'])[1 + k % 4] AS objective,
       (ARRAY[ARRAY['email', 'google_ads', 'social'], ARRAY['google_ads', 'influence', 'email'],
              ARRAY['email', 'social', 'influence'], ARRAY['google_ads', 'influence', 'social']])[1 + k % 4:1 + k % 4]
           AS channel_set,
       0.8 + 0.4 * ((k * 7) % 5) / 4.0 AS scale
FROM generate_series(0, 23) k;

INSERT INTO campaigns (id, org_id, name, objective, status, start_date, end_date, budget_amount, budget_currency,
                       channel_budgets, owner, team, channels, tags, created_by)
SELECT h.id, 'demo',
       initcap(h.objective) || ' push, ' || to_char(h.start_date, 'FMMonth YYYY'), h.objective, 'completed',
       h.start_date, h.start_date + h.days - 1, b.total + 1000, 'EUR', b.split,
       CASE WHEN h.k % 2 = 0 THEN 'demo-planner' ELSE 'demo-manager' END, 'Growth', b.channels, '{history}',
       'demo-loader'
FROM demo_history h
CROSS JOIN LATERAL (
    SELECT array_agg(c.channel ORDER BY c.channel) AS channels, sum(round(c.budget * h.scale)) AS total,
           jsonb_agg(jsonb_build_object('channel', c.channel, 'amount', round(c.budget * h.scale)::text || '.00')
                     ORDER BY c.channel) AS split
    FROM demo_channels c WHERE c.channel = ANY (h.channel_set[1:3])) b
ON CONFLICT (id) DO NOTHING;

-- Each day of each campaign on each of its channels: spend about its channel budget over the days (90 % of
-- it, give or take the wobble), and what that spend brought.
INSERT INTO measurements (org_id, campaign_id, channel, date, source, external_id, impressions, sends, opens, clicks,
                          bounces, unsubscribes, leads, conversions, spend, revenue, currency)
SELECT 'demo', h.id, c.channel, d.date, CASE c.channel WHEN 'email' THEN 'mailer' ELSE 'crm' END,
       'history-' || h.k || '-' || c.channel || '-' || d.date,
       CASE WHEN c.channel <> 'email' THEN round(f.clicks * c.impressions_per_click) END,
       CASE WHEN c.channel = 'email' THEN round(f.spend / 0.02) END,
       CASE WHEN c.channel = 'email' THEN round(f.spend / 0.02 * 0.28) END,
       round(f.clicks),
       CASE WHEN c.channel = 'email' THEN round(f.spend / 0.02 * 0.01) END,
       CASE WHEN c.channel = 'email' THEN round(f.spend / 0.02 * 0.002) END,
       round(f.leads), f.conversions, f.spend, f.conversions * c.order_value, 'EUR'
FROM demo_history h
JOIN demo_channels c ON c.channel = ANY (h.channel_set[1:3])
CROSS JOIN LATERAL generate_series(0, h.days - 1) AS i
CROSS JOIN LATERAL (SELECT h.start_date + i AS date,
                           (1 + 0.25 * sin(i * 1.7 + h.k) * cos(i * 0.3 + length(c.channel)))::numeric AS wobble) d
CROSS JOIN LATERAL (SELECT round(c.budget * h.scale * 0.9 / h.days * d.wobble, 2) AS spend) s
CROSS JOIN LATERAL (SELECT s.spend,
                           s.spend / c.cost_per_click AS clicks,
                           c.lead_factor * power(s.spend, 0.85) * (1 + 0.15 * sin(h.k * 2.3 + i))::numeric AS leads) l
-- Less than one conversion a day on average: whole ones, on the days the running total passes the next one.
CROSS JOIN LATERAL (SELECT l.*, floor(l.leads * c.conv_rate * (i + 1)) - floor(l.leads * c.conv_rate * i)
                           AS conversions) f
ON CONFLICT (org_id, source, external_id) DO NOTHING;

-- Targets as a plan would set them: a CTR (where there are impressions), a CPL and the leads expected, some
-- within reach and some not.
INSERT INTO kpi_target_sets (org_id, campaign_id, version)
SELECT 'demo', h.id, 1 FROM demo_history h
ON CONFLICT DO NOTHING;
INSERT INTO kpi_targets (org_id, campaign_id, kpi, unit, channel, target, direction, position)
SELECT 'demo', h.id, t.kpi, t.unit, NULL, t.target, t.direction, t.position
FROM demo_history h
CROSS JOIN LATERAL (VALUES
    ('leads', 'count', round(h.days * 9 * h.scale * (0.85 + 0.1 * (h.k % 4))), 'higher', 1),
    ('cpl', 'money', 60 + 10 * (h.k % 5), 'lower', 2),
    ('ctr', 'ratio', 0.018 + 0.004 * (h.k % 3), 'higher', 3)) AS t(kpi, unit, target, direction, position)
WHERE NOT EXISTS (SELECT 1 FROM kpi_targets x WHERE x.org_id = 'demo' AND x.campaign_id = h.id);

DROP TABLE demo_history, demo_channels;
