//! Chapter 15: documents and messages (docs/domain.md §6–§7). A founder attaches her pitch deck
//! to her application, the coordinator downloads it, a file that only claims to be a PDF is
//! refused by its content, and the coordinator asks the founder a question in a direct
//! conversation, whose unread count goes to zero once she has read it.

use bytes::Bytes;
use icosistem_core::Context;
use icosistem_core::model::{DocumentAccess, DocumentParent, DocumentType};
use icosistem_core::ports::store::PageRequest;
use icosistem_core::service::{OpenConversation, UploadDocument};

use super::{Founder, Outcome, Staff, Story, chapter, expect_refusal, refusal};

/// A small, well-formed PDF (what the content sniffing recognizes as one).
fn pitch_deck(project: &str) -> Vec<u8> {
    format!("%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Title ({project} pitch) >>\nendobj\ntrailer\n%%EOF\n").into_bytes()
}

/// `bytes` as the stream an upload takes (a server hands over the request body chunk by chunk).
fn stream(bytes: Vec<u8>) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures::stream::iter(
        bytes
            .chunks(64)
            .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
            .collect::<Vec<_>>(),
    )
}

pub(crate) async fn the_documents_and_messages(s: &Story, staff: &Staff, founders: &[Founder]) -> Outcome {
    chapter(15, "Documents and messages");
    let founder = &founders[0];
    let application = founder.app()?;
    let coordinator = Context::user(&staff.coordinator);

    // The deck goes to the application, readable by the program's staff.
    let deck = pitch_deck(founder.project.name.as_str());
    let mut input = UploadDocument::new(
        DocumentParent::Application(application.id),
        format!("{} — pitch deck", founder.project.name),
        DocumentType::PitchDeck,
        "pitch-deck.pdf",
    );
    input.access = DocumentAccess::Organization;
    let document = s
        .eco
        .upload_document(&founder.ctx(), input, stream(deck.clone()))
        .await?;
    println!(
        "  {} attaches \"{}\" to her application: {} bytes of {}, SHA-256 {}….",
        founder.user.first_name,
        document.title,
        document.file.size,
        document.file.content_type,
        &document.file.sha256[..12],
    );
    let download = s.eco.download_document(&coordinator, document.id, None, None).await?;
    let bytes = download.read.collect().await?;
    assert_eq!(
        bytes.as_ref(),
        deck.as_slice(),
        "the coordinator reads what was uploaded"
    );
    println!(
        "  {} downloads it (version {}): the same {} bytes; the download is in the audit log.",
        staff.coordinator.first_name,
        download.version,
        bytes.len(),
    );
    // An executable renamed to .pdf: the content decides, not the name.
    let disguised = UploadDocument::new(
        DocumentParent::Application(application.id),
        "Totally a deck",
        DocumentType::PitchDeck,
        "deck.pdf",
    );
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(256, 0);
    let refused = expect_refusal(
        s.eco.upload_document(&founder.ctx(), disguised, stream(elf)).await,
        "an executable named deck.pdf",
    )?;
    println!("  An executable renamed deck.pdf is refused: {}.", refusal(&refused));

    // The coordinator has a question; the applicant answers; both read everything.
    let opened = s
        .eco
        .open_conversation(&coordinator, OpenConversation::Direct(founder.user.id))
        .await?;
    let conversation = opened.conversation.id;
    s.eco
        .send_message(
            &coordinator,
            conversation,
            "Could you add last quarter's sales to the deck?",
        )
        .await?;
    let theirs = s.eco.get_conversation(&founder.ctx(), conversation).await?;
    println!(
        "  {} writes to {}; she has {} unread.",
        staff.coordinator.first_name,
        founder.user.first_name,
        theirs.unread()
    );
    s.eco
        .send_message(
            &founder.ctx(),
            conversation,
            "Done: version 2 will have them by Friday.",
        )
        .await?;
    let read = s.eco.mark_conversation_read(&coordinator, conversation).await?;
    let mine = s.eco.my_conversations(&founder.ctx(), PageRequest::first(20)).await?;
    let unread: u32 = mine.items.iter().map(|c| c.unread()).sum();
    println!(
        "  She answers (which reads the question); he reads the answer: unread {} for him, {} for her.",
        read.unread(),
        unread
    );
    assert_eq!((read.unread(), unread), (0, 0), "both have read everything");
    Ok(())
}
