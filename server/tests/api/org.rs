//! OUs and skill queues through HTTP: rules, the tree, roles, and tenant isolation.

#![allow(clippy::unwrap_used)]

use crate::common::*;

/// A server function's form fields.
type Form<'a> = Vec<(&'a str, &'a str)>;

struct Two {
    app: TestApp,
    root: String,
    a: String,
    b: String,
}

async fn two_tenants() -> Two {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.create_tenant(&root, "Beta", "beta-admin", "beta-password1")
        .await;
    let a = app.session("alpha-admin", "alpha-password").await;
    let b = app.session("beta-admin", "beta-password1").await;
    Two { app, root, a, b }
}

fn id(a: &Answer) -> String {
    assert_eq!(a.status, 200, "{}", a.body);
    a.json().as_i64().unwrap().to_string()
}

#[tokio::test]
async fn ous_form_a_tree_and_keep_their_rules() {
    let Two { app, a, .. } = two_tenants().await;
    let sales = id(&app
        .call(
            "create_ou",
            &[("name", "Sales"), ("parent_id", "")],
            Some(&a),
        )
        .await);
    let emea = id(&app
        .call(
            "create_ou",
            &[("name", " EMEA "), ("parent_id", &sales)],
            Some(&a),
        )
        .await);
    id(&app
        .call(
            "create_ou",
            &[("name", "Berlin"), ("parent_id", &emea)],
            Some(&a),
        )
        .await);
    id(&app
        .call(
            "create_ou",
            &[("name", "Care"), ("parent_id", "")],
            Some(&a),
        )
        .await);

    let list = app.call("list_ous", &[], Some(&a)).await.json();
    let paths: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["Care", "Sales", "Sales / EMEA", "Sales / EMEA / Berlin"]
    );

    let dup = app
        .call(
            "create_ou",
            &[("name", "sales"), ("parent_id", "")],
            Some(&a),
        )
        .await;
    assert_eq!(dup.status, 422);
    assert_eq!(dup.json()["Invalid"][0]["field"], "name");
    let empty = app
        .call("create_ou", &[("name", " "), ("parent_id", "x")], Some(&a))
        .await;
    let fields: Vec<_> = empty.json()["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["name", "parent_id"]);

    // a parent with sub-OUs cannot go; a leaf can
    let busy = app.call("delete_ou", &[("id", &sales)], Some(&a)).await;
    assert_eq!(busy.status, 422);
    assert!(busy.body.contains("has sub-OUs"), "{}", busy.body);
    let berlin = list[3]["id"].as_i64().unwrap().to_string();
    assert_eq!(
        app.call("delete_ou", &[("id", &berlin)], Some(&a))
            .await
            .status,
        200
    );
    assert_eq!(
        app.call("delete_ou", &[("id", &berlin)], Some(&a))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn skill_queues_have_unique_names_and_codes() {
    let Two { app, a, b, .. } = two_tenants().await;
    let q = id(&app
        .call(
            "create_skill_queue",
            &[("name", "WhatsApp Care"), ("access_code", "10086")],
            Some(&a),
        )
        .await);
    let dup_name = app
        .call(
            "create_skill_queue",
            &[("name", "whatsapp care"), ("access_code", "1")],
            Some(&a),
        )
        .await;
    assert_eq!(dup_name.json()["Invalid"][0]["field"], "name");
    let dup_code = app
        .call(
            "create_skill_queue",
            &[("name", "Other"), ("access_code", "10086")],
            Some(&a),
        )
        .await;
    assert_eq!(dup_code.json()["Invalid"][0]["field"], "access_code");
    let bad = app
        .call(
            "create_skill_queue",
            &[("name", ""), ("access_code", "10 086")],
            Some(&a),
        )
        .await;
    assert_eq!(bad.json()["Invalid"].as_array().unwrap().len(), 2);
    // another tenant may use the same name and code
    id(&app
        .call(
            "create_skill_queue",
            &[("name", "WhatsApp Care"), ("access_code", "10086")],
            Some(&b),
        )
        .await);

    let list = app.call("list_skill_queues", &[], Some(&a)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["access_code"], "10086");
    assert_eq!(
        app.call("delete_skill_queue", &[("id", &q)], Some(&a))
            .await
            .status,
        200
    );
    assert_eq!(
        app.call("list_skill_queues", &[], Some(&a))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

/// Tenant B using tenant A's ids gets exactly what a non-existent id gets, and A's data stays.
#[tokio::test]
async fn another_tenants_ids_answer_like_missing_ones() {
    let Two { app, a, b, .. } = two_tenants().await;
    let ou = id(&app
        .call(
            "create_ou",
            &[("name", "Sales"), ("parent_id", "")],
            Some(&a),
        )
        .await);
    let queue = id(&app
        .call(
            "create_skill_queue",
            &[("name", "Care"), ("access_code", "1")],
            Some(&a),
        )
        .await);
    let missing = "987654321";

    let cases: [(&str, Form, Form); 3] = [
        ("delete_ou", vec![("id", &ou)], vec![("id", missing)]),
        (
            "delete_skill_queue",
            vec![("id", &queue)],
            vec![("id", missing)],
        ),
        (
            "create_ou",
            vec![("name", "Child"), ("parent_id", &ou)],
            vec![("name", "Child"), ("parent_id", missing)],
        ),
    ];
    for (name, cross, none) in &cases {
        let cross = app.call(name, cross, Some(&b)).await;
        let none = app.call(name, none, Some(&b)).await;
        assert_eq!(
            (cross.status, &cross.body),
            (none.status, &none.body),
            "{name}"
        );
        assert!(
            cross.status == 404 || cross.status == 422,
            "{name}: {}",
            cross.status
        );
    }
    // B sees none of A's, and A's are all still there
    assert_eq!(
        app.call("list_ous", &[], Some(&b))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.call("list_skill_queues", &[], Some(&b))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.call("list_ous", &[], Some(&a))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.call("list_skill_queues", &[], Some(&a))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn only_tenant_administrators_reach_these_functions() {
    let Two { app, root, .. } = two_tenants().await;
    let calls: [(&str, Vec<(&str, &str)>); 6] = [
        ("list_ous", vec![]),
        ("create_ou", vec![("name", "X"), ("parent_id", "")]),
        ("delete_ou", vec![("id", "1")]),
        ("list_skill_queues", vec![]),
        (
            "create_skill_queue",
            vec![("name", "X"), ("access_code", "1")],
        ),
        ("delete_skill_queue", vec![("id", "1")]),
    ];
    for (name, form) in &calls {
        assert_eq!(app.call(name, form, None).await.status, 401, "{name}");
        assert_eq!(
            app.call(name, form, Some(&root)).await.status,
            403,
            "{name}"
        );
    }
}
