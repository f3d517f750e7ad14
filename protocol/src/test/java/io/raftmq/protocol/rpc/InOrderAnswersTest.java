package io.raftmq.protocol.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class InOrderAnswersTest {
    private final RecordingCall call = new RecordingCall();
    private final Map<String, CompletableFuture<String>> pending = new HashMap<>();
    private final InOrderAnswers<String, String> answers = new InOrderAnswers<>(call,
            request -> pending.computeIfAbsent(request, r -> new CompletableFuture<>()),
            error -> "failed: " + (error.getCause() != null ? error.getCause() : error).getMessage());

    @Test
    void answersCompletingOutOfOrderAreWrittenInRequestOrder() {
        answers.onNext("a");
        answers.onNext("b");
        answers.onNext("c");
        pending.get("c").complete("C");
        pending.get("b").complete("B");
        assertEquals(List.of(), call.written, "nothing before the first request's answer");
        pending.get("a").complete("A");
        assertEquals(List.of("A", "B", "C"), call.written);
    }

    @Test
    void aFailedOrThrowingAnswerBecomesTheFailureAnswerInItsPlace() {
        InOrderAnswers<String, String> throwing = new InOrderAnswers<>(call, request -> {
            if (request.equals("bad")) {
                throw new IllegalArgumentException("bad request");
            }
            return pending.computeIfAbsent(request, r -> new CompletableFuture<>());
        }, error -> "failed: " + (error.getCause() != null ? error.getCause() : error).getMessage());
        throwing.onNext("a");
        throwing.onNext("bad");
        throwing.onNext("c");
        pending.get("c").completeExceptionally(new IllegalStateException("log offline"));
        pending.get("a").complete("A");
        assertEquals(List.of("A", "failed: bad request", "failed: log offline"), call.written);
    }

    @Test
    void theStreamEndsAfterThePendingAnswers() {
        answers.onNext("a");
        answers.onCompleted();
        assertFalse(call.completed, "the answer to a is still to come");
        pending.get("a").complete("A");
        assertEquals(List.of("A"), call.written);
        assertTrue(call.completed);
    }

    @Test
    void nothingIsWrittenToACancelledCall() {
        answers.onNext("a");
        call.cancelled = true;
        pending.get("a").complete("A");
        assertEquals(List.of(), call.written);
    }
}
