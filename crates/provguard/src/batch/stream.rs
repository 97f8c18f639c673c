//! Tagging the batches of an async stream as they pass (the `stream` feature).

use std::pin::Pin;
use std::task::{Context, Poll};

use arrow::array::RecordBatch;
use futures::Stream;

use super::{Tagger, Tally};
use crate::Error;

/// Why a [`TaggedStream`] yielded an error: its input's, or the tagger's.
///
/// ```
/// let e: provguard::batch::StreamError<std::io::Error> =
///     provguard::batch::StreamError::Input(std::io::Error::other("gone"));
/// assert_eq!(e.to_string(), "cannot read the next record batch");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum StreamError<E> {
    /// The input stream yielded an error.
    #[error("cannot read the next record batch")]
    Input(#[source] E),
    /// A batch could not be tagged.
    #[error("cannot tag a record batch")]
    Tag(#[source] Error),
}

/// A `Stream` of record batches that yields them tagged ([`Tagger::tag`]) and adds their rows
/// up in a [`Tally`], for the verdict once the stream is done.
///
/// Each batch is tagged inside `poll_next`, on the task that polls, as DataFusion's operators
/// do their work; it runs on any executor. An input error is passed on and the stream goes on;
/// a batch that cannot be tagged (a missing column) is an error and adds nothing.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{ArrayRef, RecordBatch, StringArray};
/// use futures::{StreamExt, stream};
/// use provguard::batch::{Columns, TaggedStream, Tagger};
/// use provguard::gate::Policy;
///
/// # let dir = tempfile::tempdir()?;
/// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
/// let tagger = Tagger::new(ledger, Columns::text("text"));
/// let batch = |texts: Vec<&str>| {
///     let column = Arc::new(StringArray::from(texts)) as ArrayRef;
///     Ok::<_, std::io::Error>(RecordBatch::try_from_iter([("text", column)]).unwrap())
/// };
/// let input = stream::iter([batch(vec!["a", "b"]), batch(vec!["c"])]);
///
/// let runtime = tokio::runtime::Builder::new_current_thread().build()?;
/// let mut tagged = TaggedStream::new(input, tagger);
/// let rows = runtime.block_on(async {
///     let mut rows = 0;
///     while let Some(batch) = tagged.next().await {
///         rows += batch?.num_rows();
///     }
///     Ok::<_, Box<dyn std::error::Error>>(rows)
/// })?;
/// assert_eq!(rows, 3);
/// let judgement = tagged.tally().verdict("my-model", &Policy::default())?;
/// assert_eq!(judgement.measured.records, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TaggedStream<S> {
    input: Pin<Box<S>>,
    tagger: Tagger,
    tally: Tally,
}

impl<S> TaggedStream<S> {
    /// Tags the batches of `input` with `tagger`, starting from an empty tally.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// let tagger = provguard::batch::Tagger::new(ledger, provguard::batch::Columns::text("t"));
    /// let input = futures::stream::empty::<Result<arrow::array::RecordBatch, std::io::Error>>();
    /// let tagged = provguard::batch::TaggedStream::new(input, tagger);
    /// assert_eq!(tagged.tally().records(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new(input: S, tagger: Tagger) -> Self {
        let tally = tagger.tally();
        Self {
            input: Box::pin(input),
            tagger,
            tally,
        }
    }

    /// The rows of the batches yielded so far, added up.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// # let tagger = provguard::batch::Tagger::new(ledger, provguard::batch::Columns::text("t"));
    /// # let input = futures::stream::empty::<Result<arrow::array::RecordBatch, std::io::Error>>();
    /// let tagged = provguard::batch::TaggedStream::new(input, tagger);
    /// assert_eq!(tagged.tally().by_match().none, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// The tally, once the stream is no longer needed.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let ledger = provguard::ledger::Ledger::open_or_new(dir.path())?;
    /// # let tagger = provguard::batch::Tagger::new(ledger, provguard::batch::Columns::text("t"));
    /// # let input = futures::stream::empty::<Result<arrow::array::RecordBatch, std::io::Error>>();
    /// let tagged = provguard::batch::TaggedStream::new(input, tagger);
    /// let tally = tagged.into_tally();
    /// assert_eq!(tally.records(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn into_tally(self) -> Tally {
        self.tally
    }
}

impl<S, E> Stream for TaggedStream<S>
where
    S: Stream<Item = Result<RecordBatch, E>>,
{
    type Item = Result<RecordBatch, StreamError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Every field is `Unpin` (the input is boxed), so the stream is too.
        let this = self.get_mut();
        match this.input.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(batch))) => Poll::Ready(Some(
                this.tagger
                    .tag_counted(&batch, &mut this.tally)
                    .map_err(StreamError::Tag),
            )),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(StreamError::Input(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.input.size_hint()
    }
}
