-- root: postsConnection
SELECT json_build_object('totalCount', (SELECT count(*) FROM "tv_post" AS v CROSS JOIN LATERAL (SELECT v.data || '{}'::jsonb AS data OFFSET 0) AS vd WHERE (((vd.data->'author')->>'username')::text) = $1::text))
-- root: postsCount
SELECT to_json(count(*)) FROM "tv_post" AS v CROSS JOIN LATERAL (SELECT v.data || '{}'::jsonb AS data OFFSET 0) AS vd WHERE (v."status" = $1::text OR (((((vd.data->'author')->>'bio')::text)) IS NULL) = $2::text::boolean)
