import fraiseql, json
from examples.blog.app import schema
from fraiseql.testing.client import AppClient

async def test_x(blog_db_url):
    app = fraiseql.create_app(schema, database_url=blog_db_url)
    async with AppClient(app) as c:
        for q in [
            '{ post(id: "0801ad8c-fdeb-1662-4742-70cacc395e66") { __typename id title status rating publishedAt author { __typename username bio } tags { name } comments(limit: 2, offset: 1) { body author { username } } } }',
            '{ post(id: "41b06946-fc10-c667-b828-c9f6c727b341") { rating publishedAt status comments { id } } }',
            '{ __typename a: tags(limit: 2) { name } b: users(limit: 1) { username } }',
            '{ post(id: "not-a-uuid") { id } }',
            '{ posts(limit: 3, where: {status: {eq: DRAFT}}, orderBy: {createdAt: DESC}) { title status } }',
            '{ posts(limit: 1001) { id } }',
            '{ topPosts(count: 2) { title viewCount author { username } } }',
        ]:
            r = await c.post_graphql(q)
            print(r.status_code, r.headers.get("content-type"), r.text[:600])
