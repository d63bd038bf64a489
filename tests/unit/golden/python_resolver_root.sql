-- root: posts
SELECT coalesce(json_agg(json_build_object('id', coalesce((to_jsonb(d."id") #>> '{}'), E'\u0001\u0002fraiseql:null'::text)) ORDER BY d.n), '[]'::json) FROM (SELECT v."id", row_number() OVER (ORDER BY v."id") AS n FROM "tv_post" AS v WHERE TRUE ORDER BY v."id" LIMIT $1::int8 OFFSET $2::int8) AS d
-- graphql: topPosts
-- typename: __typename
