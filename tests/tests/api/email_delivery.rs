use std::time::Duration;

use tests::{on_both_backends, PASSWORD};

on_both_backends! {
    async fn registration_survives_a_mail_outage_and_the_email_arrives_once(app) {
        app.smtp.stop().await;
        let response = app.register("patient@example.org", PASSWORD, "Patient").await;
        assert_eq!(response.status(), 201);

        // Let the worker fail a few times against the closed port.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(app.smtp.messages_to("patient@example.org").is_empty());

        app.smtp.resume().await;
        let email = app.smtp.wait_for(|m| m.is_to("patient@example.org")).await;
        assert!(email.link_token("/verify-email").is_some());

        // Give any duplicate delivery the chance to show itself.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(app.smtp.messages_to("patient@example.org").len(), 1);
        let message_id = email.header("message-id").expect("a Message-ID");
        assert!(message_id.starts_with('<') && message_id.ends_with('>'));
    }
}
