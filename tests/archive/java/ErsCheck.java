// Bouncy Castle's second opinion on RFC 4998 evidence records made by lienthong (archive/ers.py).
//
// Usage: java ErsCheck AT RECORD.ers DATA [RECORD.ers DATA ...]
//   AT: an ISO 8601 instant (2045-01-01T00:00:00Z): no archive timestamp may be later.
// For each pair, prints "accepted" or "rejected: <reason>" on its own line. With one pair the
// exit status says it (0 accepted, 1 rejected, 2 usage); with several, 0 only if all were
// accepted.
//
// What is checked is what ERSEvidenceRecord does without a TSA verifier: the record parses,
// every chain keeps one digest algorithm and each renewal covers the timestamp before it
// (checked by the constructor), and validatePresent binds the data to the newest chain's first
// archive timestamp (with the digest of the earlier chains after a hash-tree renewal). The
// TSA certificates are not judged here (the Python verifier does that).

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;

import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.ers.ERSEvidenceRecord;
import org.bouncycastle.tsp.ers.ERSInputStreamData;

public final class ErsCheck {
    private ErsCheck() {
    }

    private static String check(DigestCalculatorProvider digests, Date at, String record, String data) {
        ERSEvidenceRecord evidence;
        try {
            evidence = new ERSEvidenceRecord(Files.readAllBytes(Path.of(record)), digests);
        } catch (Exception e) {
            return "rejected: unreadable record: " + e;
        }
        try (InputStream in = new FileInputStream(data)) {
            evidence.validatePresent(new ERSInputStreamData(in), at);
        } catch (Exception e) {
            return "rejected: " + e;
        }
        return "accepted";
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || args.length % 2 == 0) {
            System.err.println("usage: ErsCheck AT RECORD.ers DATA [RECORD.ers DATA ...]");
            System.exit(2);
        }
        Date at = Date.from(Instant.parse(args[0]));
        DigestCalculatorProvider digests = new JcaDigestCalculatorProviderBuilder().build();
        boolean all = true;
        for (int i = 1; i < args.length; i += 2) {
            String verdict = check(digests, at, args[i], args[i + 1]);
            System.out.println(verdict);
            all &= verdict.equals("accepted");
        }
        System.exit(all ? 0 : 1);
    }
}
