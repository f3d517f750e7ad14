package io.raftmq.protocol.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class UnaryAnswersTest {
    private final RecordingCall call = new RecordingCall();
    private final CompletableFuture<Integer> answer = new CompletableFuture<>();

    private void answerWhenDone() {
        UnaryAnswers.answerWhenDone(call, answer,
                (value, failure) -> failure == null ? "value " + value : "failed: " + failure.getMessage());
    }

    @Test
    void theResponseGoesOutAndTheCallEndsWhenTheAnswerCompletes() {
        answerWhenDone();
        assertEquals(List.of(), call.written);
        answer.complete(7);
        assertEquals(List.of("value 7"), call.written);
        assertTrue(call.completed);
    }

    @Test
    void aFailedAnswerIsSentAsTheFailuresResponse() {
        answerWhenDone();
        answer.completeExceptionally(new IllegalStateException("log offline"));
        assertEquals(List.of("failed: log offline"), call.written);
        assertTrue(call.completed);
    }

    @Test
    void nothingIsWrittenToACallCancelledBeforeTheAnswer() {
        answerWhenDone();
        call.cancelled = true;
        answer.complete(7);
        assertEquals(List.of(), call.written);
        assertFalse(call.completed);
    }
}
