//! Service time through HTTP: workdays, non-working dates, roles and tenant isolation.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn workdays_and_non_working_dates() {
    let app = spawn_app().await;
    let root = app.setup_admin().await;
    app.create_tenant(&root, "Alpha", "alpha-admin", "alpha-password")
        .await;
    app.create_tenant(&root, "Beta", "beta-admin", "beta-password1")
        .await;
    let a = app.session("alpha-admin", "alpha-password").await;
    let b = app.session("beta-admin", "beta-password1").await;

    let st = app.call("get_service_time", &[], Some(&a)).await.json();
    assert_eq!(
        st["weekdays"],
        json!([true, true, true, true, true, false, false])
    );
    assert_eq!(st["dates"], json!([]));

    // a six-day week: unchecked boxes are simply absent
    let r = app
        .call(
            "save_weekdays",
            &[
                ("monday", "on"),
                ("tuesday", "on"),
                ("wednesday", "on"),
                ("thursday", "on"),
                ("friday", "on"),
                ("saturday", "on"),
            ],
            Some(&a),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let st = app.call("get_service_time", &[], Some(&a)).await.json();
    assert_eq!(
        st["weekdays"],
        json!([true, true, true, true, true, true, false])
    );
    // the other tenant keeps its own
    let other = app.call("get_service_time", &[], Some(&b)).await.json();
    assert_eq!(
        other["weekdays"],
        json!([true, true, true, true, true, false, false])
    );

    let xmas = app
        .call(
            "add_non_working_date",
            &[("date", "2026-12-25"), ("name", " Christmas ")],
            Some(&a),
        )
        .await;
    assert_eq!(xmas.status, 200, "{}", xmas.body);
    app.call(
        "add_non_working_date",
        &[("date", "2026-01-01"), ("name", "")],
        Some(&a),
    )
    .await;
    let dup = app
        .call(
            "add_non_working_date",
            &[("date", "2026-12-25"), ("name", "again")],
            Some(&a),
        )
        .await;
    assert_eq!(dup.status, 422);
    assert_eq!(
        dup.json()["Invalid"][0]["message"],
        "2026-12-25 is already a non-working date."
    );
    let bad = app
        .call(
            "add_non_working_date",
            &[("date", "2026-02-30"), ("name", "<x>")],
            Some(&a),
        )
        .await;
    let fields: Vec<_> = bad.json()["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["date", "name"]);

    let st = app.call("get_service_time", &[], Some(&a)).await.json();
    let dates: Vec<_> = st["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dates, ["2026-01-01", "2026-12-25"]);
    assert_eq!(st["dates"][1]["name"], "Christmas");

    // isolation: B removing A's date answers like a missing one, and A keeps it
    let id = xmas.json()["id"].as_i64().unwrap().to_string();
    let cross = app
        .call("remove_non_working_date", &[("id", &id)], Some(&b))
        .await;
    let missing = app
        .call("remove_non_working_date", &[("id", "987654321")], Some(&b))
        .await;
    assert_eq!((cross.status, &cross.body), (missing.status, &missing.body));
    assert_eq!(cross.status, 404);
    assert_eq!(
        app.call("get_service_time", &[], Some(&b)).await.json()["dates"],
        json!([])
    );
    assert_eq!(
        app.call("remove_non_working_date", &[("id", &id)], Some(&a))
            .await
            .status,
        200
    );
    assert_eq!(
        app.call("get_service_time", &[], Some(&a)).await.json()["dates"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    for (name, form) in [
        ("get_service_time", vec![]),
        ("save_weekdays", vec![("monday", "on")]),
        (
            "add_non_working_date",
            vec![("date", "2026-05-01"), ("name", "")],
        ),
        ("remove_non_working_date", vec![("id", "1")]),
    ] {
        assert_eq!(app.call(name, &form, None).await.status, 401, "{name}");
        assert_eq!(
            app.call(name, &form, Some(&root)).await.status,
            403,
            "{name}"
        );
    }
}
