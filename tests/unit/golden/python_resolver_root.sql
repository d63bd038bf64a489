-- root: posts
SELECT coalesce(json_agg(json_build_object('id', coalesce((to_jsonb(d."id") #>> '{}'), E'\u0001\u0002fraiseql:null'::text)) ORDER BY k.n), '[]'::json) FROM (SELECT * FROM (SELECT v.id, row_number() OVER (ORDER BY v."id") AS n FROM "tv_post" AS v WHERE TRUE ORDER BY v."id" LIMIT $1::int8 OFFSET $2::int8) AS k0 ORDER BY k0.n) AS k CROSS JOIN LATERAL (SELECT v."id" FROM "tv_post" AS v WHERE v.id = k.id LIMIT 1) AS d
-- graphql: topPosts
-- typename: __typename
