package dev.whittle.engine;

/**
 * Bad input from a user: a file, a dataset, an architecture spec or an option. The message is
 * one line naming where the problem is (the file, the field or layer) and the offending value.
 * The command line prints it and exits with code 2.
 */
public class BadInputException extends Exception {

    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
