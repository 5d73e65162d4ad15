def test_login_page_links_to_registration(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "新用户注册" in response.content.decode()


def test_register_page_renders_region_selects(client, db):
    response = client.get("/register/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "北京市" in body and 'name="region_0"' in body
