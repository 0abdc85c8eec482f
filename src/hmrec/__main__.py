"""``python -m hmrec`` runs the command line."""

from hmrec.cli.main import main

if __name__ == "__main__":
    main()
